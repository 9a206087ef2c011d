/**
 * Log lines quoted as evidence are attacker-controlled (a request line, a user agent): printed raw,
 * an escape sequence in one can recolour, retitle or rewrite the operator's terminal. The text
 * reports show every control character as a visible escape instead.
 */

// C0 controls except tab and newline, DEL, C1 controls, and the bidirectional overrides that reorder text.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this module's job.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** `text` with each control character written as `\xNN` (or `\uNNNN`), so it prints as what it is. */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}
