import type { Socket } from 'node:net'

/**
 * Gathers everything written to `socket` during one turn of the event loop into one
 * `writev` (cork at the first write, uncork in `setImmediate`).
 *
 * Nagle is off on broker sockets (small QoS 1 acks and deliveries must not wait for the
 * peer's ACK), so without this every packet Aedes writes becomes its own syscall and its
 * own TCP segment: under fan-out load that syscall was half of the broker's CPU time.
 * Corking for the rest of the current turn batches the deliveries that one incoming
 * chunk of publishes produces for a subscriber, at a latency cost of microseconds.
 */
export function coalesceWrites(socket: Socket): void {
  let corked = false
  let congested = false
  const flush = (): void => {
    corked = false
    if (!socket.destroyed) socket.uncork()
  }
  const write = socket.write
  socket.write = function (this: Socket, ...args: Parameters<Socket['write']>): boolean {
    if (!corked && !socket.destroyed) {
      corked = true
      // backpressure is judged by what was still unsent when this turn began, not by what
      // this turn itself gathered: otherwise batching alone would stall the sender
      congested = socket.writableLength >= socket.writableHighWaterMark
      socket.cork()
      setImmediate(flush)
    }
    const accepted = write.apply(this, args)
    return accepted || !congested
  } as Socket['write']
}
