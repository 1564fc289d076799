// A value function module that ends its worker thread as it loads (process.exit in a worker ends
// the thread): the worker exits before it is ready, with nothing else said.
process.exit(3);

export function value(coalition) {
  return coalition.length;
}
