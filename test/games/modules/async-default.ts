// TypeScript module exporting the value function on its default export, asynchronously.
export default {
  async value(coalition: readonly string[]): Promise<number> {
    await new Promise((r) => setTimeout(r, 1));
    return coalition.includes('coder') && coalition.includes('reviewer') ? 1 : 0;
  },
};
