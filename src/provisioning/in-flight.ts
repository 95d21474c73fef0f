/** Store entries whose request this process is sending right now: a resume in the same process leaves them alone. */
const inFlight = new Set<string>();

export function markInFlight(entryPath: string): () => void {
  inFlight.add(entryPath);
  return () => inFlight.delete(entryPath);
}

export function isInFlight(entryPath: string): boolean {
  return inFlight.has(entryPath);
}
