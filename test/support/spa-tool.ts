/**
 * SPA helpers for integration tests, each run inside a namespace:
 *
 *   capture PORT TIMEOUT_MS            print the payload (hex) of the first UDP datagram to PORT that
 *                                      libpcap sees, as an eavesdropper would record it
 *   send HOST PORT HEX                 send those exact bytes again (a replay)
 *   build CREDENTIAL SKEW_MS [JSON]    print a datagram built by the real client code, its timestamp
 *                                      shifted by SKEW_MS; JSON may set ports/durationS/prefix
 *   ssh-forge CREDENTIAL HOW [KEY]     print a datagram for an ssh_key credential whose proof is that
 *                                      key's signature, but over the wrong data (forgery attempts):
 *                                      HOW `agent-raw` (ssh-agent at SSH_AUTH_SOCK signs the raw
 *                                      transcript) or `keygen:NAMESPACE` (`ssh-keygen -Y sign -n
 *                                      NAMESPACE -f KEY` over the transcript; with knockgate-spa@v1
 *                                      this is a valid proof made by OpenSSH itself)
 */

import { randomBytes } from 'node:crypto';
import { buildSpaDatagram, sendDatagram } from '../../src/client/spa-sender.js';
import { agentSign } from '../../src/client/ssh-agent.js';
import { prepareSeal } from '../../src/core/spa/native-wire.js';
import { parseSshsigArmor } from './sshsig-armor.js';
import { sshKeygenSign } from './ssh-agent-process.js';
import { parseFrame } from '../../src/core/packet.js';
import { openCapture } from '../../src/sensors/pcap-binding.js';
import { readClientCredential } from '../../src/stores/key-files.js';

const [, , command, ...args] = process.argv;

if (command === 'capture') {
  const [port, timeout] = args.map(Number) as [number, number];
  const timer = setTimeout(() => process.exit(3), timeout);
  const cap = openCapture({
    device: 'any',
    filter: `udp dst port ${port}`,
    snaplen: 65535,
    bufferBytes: 1 << 20,
    promisc: false,
    batchBytes: 1 << 17,
    onFrame: (frame) => {
      const r = parseFrame(cap.linkType ?? 'linux-sll', frame);
      if (r.ok && r.packet.proto === 'udp' && r.packet.dport === port) {
        clearTimeout(timer);
        process.stdout.write(`${Buffer.from(r.packet.payload).toString('hex')}\n`);
        cap.close();
        process.exit(0);
      }
    },
  });
  process.stdout.write('ready\n');
} else if (command === 'send') {
  const [host, port, hex] = args as [string, string, string];
  await sendDatagram(host, host.includes(':') ? 6 : 4, Number(port), Buffer.from(hex, 'hex'));
} else if (command === 'build') {
  const [file, skew, json] = args as [string, string, string | undefined];
  const extra = (json ? JSON.parse(json) : {}) as {
    ports?: { proto: 'tcp' | 'udp'; port: number }[];
    durationS?: number;
    prefix?: number;
  };
  const cred = readClientCredential(file);
  const datagram = buildSpaDatagram(
    cred,
    { ports: extra.ports ?? [], durationS: extra.durationS ?? 0, address: null, prefix: extra.prefix ?? 0 },
    Date.now() + Number(skew),
  );
  process.stdout.write(`${Buffer.from(datagram).toString('hex')}\n`);
} else if (command === 'ssh-forge') {
  const [file, how, key] = args as [string, string, string | undefined];
  const cred = readClientCredential(file);
  if (cred.sshKey === undefined) throw new Error('not an ssh_key credential');
  const prepared = prepareSeal({
    serverPublicKey: cred.serverPublicKey,
    doorId: cred.doorId,
    clientId: cred.clientId,
    mode: 'ssh-ed25519',
    request: { timestampMs: Date.now(), nonce: randomBytes(16), durationS: 0, address: null, prefix: 0, ports: [] },
    ephemeralPrivate: randomBytes(32),
    topBit: 0,
  });
  const proof = how.startsWith('keygen:')
    ? parseSshsigArmor(sshKeygenSign(key as string, how.slice('keygen:'.length), prepared.transcript)).signature
    : await agentSign(cred.sshKey, prepared.transcript);
  process.stdout.write(`${Buffer.from(prepared.finish(proof)).toString('hex')}\n`);
} else {
  process.stderr.write('usage: spa-tool capture|send|build|ssh-forge ...\n');
  process.exit(64);
}
