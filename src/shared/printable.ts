/**
 * Text from outside (Cognito's messages, the config file, the daemon's socket) made safe to write to a
 * terminal, stderr or a log: escape sequences (CSI, OSC, DCS and the like, in their 7-bit ESC and 8-bit C1
 * forms) are removed whole, and every other C0/C1 control character is dropped, so nothing that arrives can
 * retitle a window, recolour or move the cursor, or hide text. Tabs become spaces; a newline is kept only in
 * multi-line display text (the otpauth QR code), and becomes a space elsewhere.
 */

/**
 * ESC or C1 introducers, with what they swallow: a CSI's parameters and final byte; an OSC/DCS/SOS/PM/APC
 * string up to its terminator (BEL or ST, or the end of the text when unterminated); any other ESC sequence
 * (intermediates, then one final byte).
 */
// biome-ignore lint/complexity/useRegexLiterals: as a literal, its control characters fail noControlCharactersInRegex
const escapeSequence = new RegExp(
  String.raw`(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|\x1b[\x20-\x2f]*[\x30-\x7e]?`,
  'g',
);
/** What is left: C0 except newline and tab, DEL, C1. */
// biome-ignore lint/complexity/useRegexLiterals: as a literal, its control characters fail noControlCharactersInRegex
const control = new RegExp(String.raw`[\x00-\x08\x0b-\x1f\x7f-\x9f]`, 'g');

export function printable(text: string, options: { multiline?: boolean } = {}): string {
  const cleaned = text
    .replace(escapeSequence, '')
    .replace(/\r\n?/g, '\n')
    .replace(control, '')
    .replace(/\t/g, ' ');
  return options.multiline ? cleaned : cleaned.replace(/\n/g, ' ');
}
