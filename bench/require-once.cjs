// Prints how long require() of a CommonJS file takes in this fresh process, in milliseconds: how the webhook function
// loads the optional CEL chunks (import() of a .cjs file would add Node's named-export scan of it).
const start = performance.now();
require(process.argv[2]);
process.stdout.write(`${(performance.now() - start).toFixed(2)}\n`);
