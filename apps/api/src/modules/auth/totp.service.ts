import { generateSecret, generateURI, verify } from 'otplib';

/** RFC 6238 TOTP: 6 digits, 30 s, one step of clock drift either way. */
export class TotpService {
  newSecret(): string {
    return generateSecret();
  }

  uri(secret: string, accountLabel: string): string {
    return generateURI({ issuer: 'Anneal', label: accountLabel, secret });
  }

  async check(secret: string, code: string, now: Date): Promise<boolean> {
    if (!/^\d{6}$/.test(code)) return false;
    const result = await verify({ secret, token: code, epoch: Math.floor(now.getTime() / 1000), epochTolerance: 30 });
    return result.valid;
  }
}
