// An async value function (a judge it awaits) that ends its worker thread for episodes whose id
// starts with "crash" (a native crash, an out-of-memory kill), and is additive otherwise: the
// worker runs the episodes it holds at the same time, so the others are in flight when it dies.
export async function value(coalition, episode) {
  await new Promise((resolve) => setTimeout(resolve, 20));
  if (episode.episodeId.startsWith('crash')) process.exit(7);
  return coalition.length;
}
