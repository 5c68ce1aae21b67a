import { fullName, missingClaims, readClaims } from '../../src/auth/claims';
import { defaultAuthMethod } from '../../src/auth/strategy';

describe('readClaims (claims are outside input)', () => {
  it('reads strings, trimmed', () => {
    expect(readClaims({ sub: ' abc ', email: ' a@b.fr ', given_name: 'Ann', family_name: 'Lee' })).toMatchObject({
      sub: 'abc',
      email: 'a@b.fr',
      givenName: 'Ann',
      familyName: 'Lee',
    });
  });

  it.each([
    [{ sub: 42 }, '42'],
    [{ sub: null }, ''],
    [{ sub: { nested: true } }, ''],
    [{ sub: ['a'] }, ''],
    [{}, ''],
    [{ sub: 'x'.repeat(256) }, ''],
  ])('reads the sub of %j as %j', (claims, sub) => {
    expect(readClaims(claims).sub).toBe(sub);
  });

  it('treats non-strings, empty and oversized values as absent', () => {
    expect(readClaims({ sub: 's', email: 12, given_name: '', family_name: 'x'.repeat(151) })).toMatchObject({ email: null, givenName: null, familyName: null });
  });
});

describe('missingClaims', () => {
  it('names the essential claims that are absent, null or blank', () => {
    expect(missingClaims({ a: 'x', b: '', c: null, e: 0, f: false }, ['a', 'b', 'c', 'd', 'e', 'f'])).toEqual(['b', 'c', 'd']);
  });
});

describe('fullName', () => {
  it.each([
    [{ given_name: 'Ann', family_name: 'Lee', name: 'Dr Ann Lee' }, 'Ann Lee'],
    [{ given_name: 'Ann' }, 'Ann'],
    [{ name: ' Ann Lee ' }, 'Ann Lee'],
    [{ given_name: '', family_name: '  ', name: 'Ann Lee' }, 'Ann Lee'],
    [{}, null],
  ])('%j → %j (the name claim when the IdP releases no given or family name)', (claims, expected) => {
    expect(fullName(readClaims({ sub: 's', ...claims }))).toBe(expected);
  });
});

describe('defaultAuthMethod (OIDC_TOKEN_ENDPOINT_AUTH_METHOD unset)', () => {
  it.each([
    [undefined, 'client_secret_basic'],
    [[], 'client_secret_basic'],
    [['client_secret_post', 'client_secret_basic'], 'client_secret_basic'],
    [['client_secret_post', 'private_key_jwt'], 'client_secret_post'],
  ])('discovery listing %j → %s', (supported, expected) => {
    expect(defaultAuthMethod(supported)).toBe(expected);
  });
});
