/**
 * Text for the YAML that the importers (knockd.conf, fwknop access.conf) write: every string is a
 * double-quoted scalar that YAML reads back verbatim, and comments stay on one line.
 */

/**
 * A string as a YAML double-quoted scalar that reads back verbatim: JSON's quoting, plus escapes for
 * the characters YAML does not allow raw or might read as line breaks.
 */
export function yamlString(s: string): string {
  return JSON.stringify(s).replace(
    /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** One line of text for a YAML comment: every character YAML could read as a line break becomes a space. */
export const commentText = (s: string): string => s.replace(/[\r\n\u0085\u2028\u2029]/g, ' ');
