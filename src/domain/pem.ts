/**
 * PEM blocks (certificates, keys, NATS .creds sections) as pasted into a one-line form field lose
 * their line breaks; TLS and NATS parsers need them. This puts the breaks back: the BEGIN/END
 * lines on their own lines and the base64 body in 64-character lines. Text that already has
 * line breaks is returned unchanged.
 */
const BLOCK = /(-{5,}BEGIN [^-]+-{5,})\s*([\s\S]*?)\s*(-{5,}END [^-]+-{5,})/g;

export function normalizePem(text: string): string {
  if (text.includes('\n')) return text;
  return text.replace(BLOCK, (_m, begin: string, body: string, end: string) => {
    const flat = body.replace(/\s+/g, '');
    return `${begin}\n${flat.match(/.{1,64}/g)?.join('\n') ?? ''}\n${end}\n`;
  });
}
