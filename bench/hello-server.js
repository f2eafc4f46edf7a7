'use strict'
/**
 * The HTTP reference: an Express 5 hello-world POST route with the JSON body parser,
 * in its own process. `POST /hello` answers 201 with a small JSON object.
 */
const express = require('express')
const { serveControl } = require('./server-control')

const app = express()
app.use(express.json())
app.post('/hello', (req, res) => {
  res.status(201).json({ ok: true, fields: Object.keys(req.body ?? {}).length })
})
const server = app.listen(0, '127.0.0.1', () => {
  serveControl(() => new Promise((resolve) => server.close(() => resolve())))
  process.send({ type: 'ready', ports: { http: server.address().port } })
})
