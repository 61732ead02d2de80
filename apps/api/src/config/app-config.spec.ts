import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './app-config.js';

const minimal = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/anneal',
  AUTH_TOKEN_SECRET: 'x'.repeat(40),
  ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}`,
};

describe('loadConfig', () => {
  it('applies defaults', () => {
    const config = loadConfig(minimal);
    expect(config.PORT).toBe(3000);
    expect(config.PLATFORM_FEE_BPS).toBe(2000);
    expect(config.ALLOW_SIMULATED_NODES).toBe(false);
  });

  it('names the variable that is wrong', () => {
    expect(() => loadConfig({ ...minimal, PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ ...minimal, ALLOW_SIMULATED_NODES: 'maybe' })).toThrow(/ALLOW_SIMULATED_NODES/);
  });

  it('says which required variable is missing', () => {
    try {
      loadConfig({ AUTH_TOKEN_SECRET: minimal.AUTH_TOKEN_SECRET, ENCRYPTION_KEYS: minimal.ENCRYPTION_KEYS });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual(['DATABASE_URL: is required']);
    }
  });

  it('refuses a development secret in production', () => {
    expect(() => loadConfig({ ...minimal, NODE_ENV: 'production', AUTH_TOKEN_SECRET: `dev-${'y'.repeat(40)}` })).toThrow(/AUTH_TOKEN_SECRET/);
  });
});
