// Prints how long importing a bundle takes in this fresh process (module scope included), in milliseconds.
const start = performance.now();
await import(process.argv[2]);
process.stdout.write(`${(performance.now() - start).toFixed(2)}\n`);
