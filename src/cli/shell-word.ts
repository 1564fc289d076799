/** `text` as one POSIX shell word: bare when it holds nothing a shell reads, else single-quoted (check's last line is a command to type again). */
export function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}
