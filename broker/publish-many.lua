-- PUBLISHes ARGV[2], ARGV[3], ... on the channel ARGV[1], in order, in one call.
-- pcall: a PUBLISH the server refuses does not stop the ones after it.
-- Returns how many were refused.
local channel = ARGV[1]
local refused = 0
for i = 2, #ARGV do
  local reply = redis.pcall('PUBLISH', channel, ARGV[i])
  if type(reply) == 'table' and reply.err then refused = refused + 1 end
end
return refused
