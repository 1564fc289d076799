/**
 * The certificates of a PEM file, as OpenSSL reads them — for the files read at start (the Kafka
 * client's CA bundle, the listeners' certificate and client CA), so that both accept and refuse
 * the same files. Also OpenSSL's `TRUSTED CERTIFICATE` (RHEL's ca-bundle.trust.crt) and old
 * `X509 CERTIFICATE` labels: they wrap the same DER certificate (TRUSTED adds trust settings
 * after it). Node's TLS takes a file whose blocks do not parse without a word (OpenSSL skips
 * them), so callers name what does not parse.
 */
import { X509Certificate } from 'node:crypto';

const CERTIFICATE_BLOCK = /-----BEGIN (?:TRUSTED |X509 )?CERTIFICATE-----[\s\S]*?-----END (?:TRUSTED |X509 )?CERTIFICATE-----/g;

export interface PemCertificates {
  /** Certificate blocks in the text. */
  readonly count: number;
  /** `certificate i of n: <why>` for each block that does not parse. */
  readonly unreadable: readonly string[];
  /** With no certificate block: the label of the first PEM block there is (`PRIVATE KEY`, …), else `nothing`. */
  readonly otherwise: string;
}

export function pemCertificates(text: string): PemCertificates {
  const blocks = text.match(CERTIFICATE_BLOCK) ?? [];
  const unreadable: string[] = [];
  for (const [i, block] of blocks.entries()) {
    try {
      try {
        new X509Certificate(block);
      } catch (err) {
        if (block.startsWith('-----BEGIN CERTIFICATE-----')) throw err;
        new X509Certificate(block.replace(/(TRUSTED|X509) CERTIFICATE-----/g, 'CERTIFICATE-----'));
      }
    } catch (err) {
      unreadable.push(`certificate ${i + 1} of ${blocks.length}: ${(err as Error).message}`);
    }
  }
  return { count: blocks.length, unreadable, otherwise: blocks.length > 0 ? '' : (/-----BEGIN ([A-Z0-9 ]+)-----/.exec(text)?.[1] ?? 'nothing') };
}
