/**
 * Whether JSON text nests arrays and objects deeper than `max` (strings are skipped), read as text
 * before JSON.parse: a body nested thousands deep parses, then overflows the stack wherever it is
 * walked or serialised again. Used where untrusted bodies arrive: the sandbox's API and the receiver.
 */
export function jsonDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}
