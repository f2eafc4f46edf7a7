/**
 * PM2 process file: `npm run build && npm run migrate && pm2 start ecosystem.config.js`.
 *
 * Cluster mode: PM2 is the Node cluster primary, so every instance's HTTP and MQTT
 * `listen()` shares one socket per port and connections are dealt round-robin to
 * the instances. Several instances must share Redis (REDIS_URL: MQTT fan-out,
 * sessions, rate limits, job locks) and a MySQL database (DATABASE_URL); without
 * Redis run one instance. Run `npm run migrate` before the first start and before
 * a reload that brings new migrations, so instances never race to migrate.
 *
 * Settings read here (besides the service's own, see README):
 *   SIGNALHUB_INSTANCES   instances (default 2 with REDIS_URL, else 1; `max` = one per core)
 *   SIGNALHUB_MAX_MEMORY  restart an instance above this resident size (default 768M)
 *   SIGNALHUB_LOG_DIR     folder for out.log / error.log (default: PM2's own, ~/.pm2/logs)
 *
 * Stop and reload: PM2 sends SIGINT; the instance stops accepting, finishes in-flight
 * requests, flushes the audit batch and disconnects MQTT clients within 10 s
 * (main.ts), so kill_timeout leaves 2 s on top before SIGKILL. `pm2 reload signal-hub`
 * replaces instances one at a time; each new one must listen within listen_timeout.
 */
const instancesSetting = process.env.SIGNALHUB_INSTANCES || (process.env.REDIS_URL ? '2' : '1')
const instances = instancesSetting === 'max' ? 'max' : Number(instancesSetting)
const logDir = process.env.SIGNALHUB_LOG_DIR

module.exports = {
  apps: [
    {
      name: 'signal-hub',
      script: 'dist/main.js',
      cwd: __dirname,
      exec_mode: 'cluster',
      instances,
      node_args: ['--enable-source-maps'],
      max_memory_restart: process.env.SIGNALHUB_MAX_MEMORY || '768M',
      kill_timeout: 12000,
      listen_timeout: 15000,
      wait_ready: false,
      min_uptime: 10000,
      max_restarts: 10,
      exp_backoff_restart_delay: 200,
      out_file: logDir ? `${logDir}/out.log` : undefined,
      error_file: logDir ? `${logDir}/error.log` : undefined,
      merge_logs: true,
      env: {
        NODE_ENV: 'production'
      }
    }
  ]
}
