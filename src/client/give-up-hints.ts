/**
 * What `connect` (and `knock --wait`) tell a user whose knock did not open the port, in the order
 * the causes are met in practice, each with the command that checks it. SPA gets no answer, so the
 * client cannot know which it was; the server's log can (each refusal names its reason), and the
 * hints say where to look. A reset is its own case: something answered, so the firewall did let
 * the connection through (or does not guard that port) and nothing listens there.
 */

/** How the connection attempts ended. */
export type ConnectOutcome = 'timeout' | 'reset';

export function giveUpMessage(o: {
  readonly host: string;
  readonly port: number;
  readonly attempts: number;
  readonly waitMs: number;
  readonly outcome: ConnectOutcome;
}): string {
  const where = `${o.host} port ${o.port}/tcp`;
  if (o.outcome === 'reset') {
    return [
      `${where} refused the connection (a TCP reset): the knock got through, or the port is not guarded, but nothing listens there.`,
      `  Check the service on the server: ss -ltn 'sport = :${o.port}'`,
    ].join('\n');
  }
  return [
    `${where} did not answer after ${o.attempts} knock${o.attempts === 1 ? '' : 's'} (no reply at all in ${o.waitMs} ms each: the port stayed filtered).`,
    'Likely causes, most likely first; in brackets, the reason the server logs for such a packet (journalctl -u knockgated, or its log_file):',
    `  1. the door does not open ${o.port}/tcp, or not for this client (spa-not-allowed): on the server, knockgate status lists each door's ports; here, knockgate knock -v ${o.host} shows what is asked for`,
    "  2. the duration asked for is above the client's max_duration (spa-not-allowed): try without --duration",
    '  3. the clocks differ by more than the freshness window (spa-stale, "client clock N s ahead/behind"): compare date -u here and on the server',
    "  4. the credential was made for another server key (spa-mac1): knockgate knock -v prints the credential's server key fingerprint; the server's door-ready log line has its own",
    '  5. the packet never arrived (a firewall on the way drops UDP to the SPA port): on the server, knockgate status shows the SPA counters move',
  ].join('\n');
}
