// Preloaded into Node tools we run (the Agents Playground) so their servers bind to 127.0.0.1 only:
// they listen on every interface by default, and nothing of ours may be reachable from outside this machine.
"use strict";
const net = require("net");
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === "number" || (typeof args[0] === "string" && /^\d+$/.test(args[0]))) {
    const port = Number(args[0]);
    const rest = args.slice(1).filter((arg) => typeof arg === "function" || typeof arg === "number");
    const backlog = rest.find((arg) => typeof arg === "number");
    const callback = rest.find((arg) => typeof arg === "function");
    return listen.call(this, { port, host: "127.0.0.1", backlog }, callback);
  }
  if (args[0] && typeof args[0] === "object" && !Array.isArray(args[0]) && args[0].path === undefined) {
    args[0] = { ...args[0], host: "127.0.0.1" };
  }
  return listen.apply(this, args);
};
