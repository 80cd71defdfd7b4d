/**
 * The SSH wire encoding this code base needs (RFC 4251 §5): uint32 and string, written, and read
 * back by a bounded reader.
 *
 * Contract: the writers copy their input; SshReader never reads past the buffer it was given and
 * never throws: a short or oversized field makes it `failed`, after which every read returns
 * null. Callers check `failed` (or a null) once, at the end of what they parse.
 */

/** uint32, big-endian. */
export function sshUint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** string: uint32 length || bytes (text is UTF-8). */
export function sshString(value: Uint8Array | string): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
  return Buffer.concat([sshUint32(bytes.length), bytes]);
}

export class SshReader {
  #offset = 0;
  #failed = false;
  readonly #bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  get failed(): boolean {
    return this.#failed;
  }

  /** No byte left, and nothing failed. */
  get atEnd(): boolean {
    return !this.#failed && this.#offset === this.#bytes.length;
  }

  get remaining(): number {
    return this.#bytes.length - this.#offset;
  }

  u8(): number | null {
    const b = this.#take(1);
    return b === null ? null : (b[0] as number);
  }

  u32(): number | null {
    const b = this.#take(4);
    return b === null ? null : Buffer.from(b.buffer, b.byteOffset, 4).readUInt32BE(0);
  }

  /** A string's bytes (a view into the buffer), or null when its length runs past the end. */
  string(): Uint8Array | null {
    const length = this.u32();
    return length === null ? null : this.#take(length);
  }

  #take(n: number): Uint8Array | null {
    if (this.#failed || n > this.#bytes.length - this.#offset) {
      this.#failed = true;
      return null;
    }
    const out = this.#bytes.subarray(this.#offset, this.#offset + n);
    this.#offset += n;
    return out;
  }
}
