/**
 * Ports fetch will not connect to: the Fetch standard's "bad ports" (undici's badPorts, the same
 * in Node 20–26). A judge or token endpoint on one of them passed the config and
 * `agent-credit check` (a TCP connection there succeeds), then every call failed with
 * "fetch failed (bad port)".
 */
const FETCH_BLOCKED_PORTS: ReadonlySet<number> = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161,
  179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060,
  5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/** The problem with `url`'s port for fetch, or undefined (also for a URL that does not parse: its own check reports it). */
export function fetchBlockedPort(url: string): string | undefined {
  if (!URL.canParse(url)) return undefined;
  const u = new URL(url);
  if (u.port === '' || !FETCH_BLOCKED_PORTS.has(Number(u.port))) return undefined;
  return `port ${u.port} is one fetch refuses to connect to (the Fetch standard's "bad ports"; every call would fail with "fetch failed (bad port)"): serve it on another port, e.g. 8000`;
}
