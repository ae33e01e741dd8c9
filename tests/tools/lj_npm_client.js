// lj_npm_client.js - drives lumberjack-client (npm; an independent Lumberjack v2 client by
// another author: window frame, then one zlib-compressed frame of J frames) against
// tests/tools/lj_standin, to prove the stand-in reads the protocol as others write it and
// is not shaped to our own client's mistakes. Used by
// tests/integration/logstash_standin_vs_npm_client.sh; node_modules is never committed.
//
//   node lj_npm_client.js PORT FIRST LAST [CA_FILE]
// Sends "npm N" for N in FIRST..LAST: the first half queued before the connection is up (one
// window), the rest one window per event once connected. Exits after `wait` ms.
'use strict'
const fs = require('fs')
const LumberjackClient = require('lumberjack-client')
const [port, first, last, ca] = [Number(process.argv[2]), Number(process.argv[3]),
  Number(process.argv[4]), process.argv[5]]
const conf = {host: ca ? 'localhost' : '127.0.0.1', port}
if (ca) conf.ca = [fs.readFileSync(ca)]
const client = new LumberjackClient(conf, !!ca)
const mid = Math.floor((first + last) / 2)
const ev = (i) => ({'@timestamp': new Date().toISOString(), message: `npm ${i} from lumberjack-client`})
for (let i = first; i <= mid; i++) client.log(ev(i))
const timer = setInterval(() => {
  if (!client.connected) return
  clearInterval(timer)
  for (let i = mid + 1; i <= last; i++) client.log(ev(i))
  // the client never reads ACKs: give the socket time to drain, then leave
  setTimeout(() => { client.socket.end(); process.exit(0) }, 1500)
}, 20)
