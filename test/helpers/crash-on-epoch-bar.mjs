// Preloaded with `node --import` by the terminal tests: a crash (an uncaught exception, as a bug
// would throw) while nn-train's epoch bar is on the screen. Test-only: nothing in src/ knows of it.
const write = process.stderr.write.bind(process.stderr);
let armed = true;
process.stderr.write = (chunk, ...rest) => {
  const result = write(chunk, ...rest);
  if (armed && /epoch \d+\/\d+ █/.test(String(chunk))) {
    armed = false;
    setImmediate(() => {
      throw new Error('a crash for the test');
    });
  }
  return result;
};
