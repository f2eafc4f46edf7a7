/**
 * PM2 process file: `npm run build && pm2 start ecosystem.config.js`.
 * Several instances share one listener each (PM2 cluster mode) and must share
 * Redis (REDIS_URL) and the database so they act as one service; one instance
 * is enough without Redis.
 */
const instances = Number(process.env.SIGNALHUB_INSTANCES || (process.env.REDIS_URL ? 2 : 1))

module.exports = {
  apps: [
    {
      name: 'signal-hub',
      script: 'dist/main.js',
      exec_mode: 'cluster',
      instances,
      max_memory_restart: process.env.SIGNALHUB_MAX_MEMORY || '768M',
      kill_timeout: 12000,
      listen_timeout: 15000,
      out_file: process.env.SIGNALHUB_LOG_DIR ? `${process.env.SIGNALHUB_LOG_DIR}/out.log` : undefined,
      error_file: process.env.SIGNALHUB_LOG_DIR ? `${process.env.SIGNALHUB_LOG_DIR}/error.log` : undefined,
      merge_logs: true,
      env: {
        NODE_ENV: 'production'
      }
    }
  ]
}
