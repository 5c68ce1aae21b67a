import { domainToASCII } from 'node:url';
import fc from 'fast-check';
import { isValidDomainName, normalizeDomainName } from '../../src/sync/domain-names';
import { isEmptyPlan, planAdminSync, readEntitledDomains, type ExistingAccess } from '../../src/sync/plan';

describe('normalizeDomainName', () => {
  it.each([
    ['Example.COM.', 'example.com'],
    ['  a.fr  ', 'a.fr'],
    ['MÜNCHEN.de', 'xn--mnchen-3ya.de'],
    ['xn--mnchen-3ya.de', 'xn--mnchen-3ya.de'],
    // Full stops other than "." become dots in the IDN conversion: the trailing one goes after it.
    ['example.fr。', 'example.fr'],
    ['EXAMPLE．FR．', 'example.fr'],
  ])('%j → %j', (input, expected) => {
    expect(normalizeDomainName(input)).toBe(expected);
  });

  it('takes names already normalised as they are, exactly as the IDN conversion would', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9.-]{1,40}$/), (name) => {
        const viaConversion = domainToASCII(name).replace(/\.$/, '') || null;
        expect(normalizeDomainName(name)).toBe(viaConversion);
      }),
      { numRuns: 2000 },
    );
  });

  it.each(['', '   ', '.', 'a b.fr', 'xn--zz.fr'])('%j cannot be normalised', (input) => {
    expect(normalizeDomainName(input)).toBeNull();
  });
});

describe('isValidDomainName', () => {
  it.each(['a.fr', 'mail-1.example.com', 'xn--mnchen-3ya.de', 'localhost', `${'a'.repeat(63)}.fr`])('accepts %s', (name) => {
    expect(isValidDomainName(name)).toBe(true);
  });
  it.each(['a..fr', '-a.fr', 'a-.fr', 'a_b.fr', `${'a'.repeat(64)}.fr`, `${'abcdefghi.'.repeat(25)}abcd`, '', 'a.fr.'])('rejects %j', (name) => {
    expect(isValidDomainName(name)).toBe(false);
  });
});

describe('readEntitledDomains', () => {
  it('reads null and absent as unmanaged', () => {
    expect(readEntitledDomains(null)).toEqual({ kind: 'unmanaged' });
    expect(readEntitledDomains(undefined)).toEqual({ kind: 'unmanaged' });
  });
  it.each([['a.fr'], [{}], [42], [true], [['a.fr', 1]], [['a.fr', null]], [[['a.fr']]]])('reads %j as invalid', (value) => {
    expect(readEntitledDomains(value).kind).toBe('invalid');
  });
  it('normalises and deduplicates, keeping names it cannot use apart', () => {
    expect(readEntitledDomains(['A.fr', 'a.fr.', ' b.fr', '', 'a b.fr', 'a_b.fr', 'c.fr。'])).toEqual({
      kind: 'list',
      names: ['a.fr', 'b.fr', 'c.fr'],
      unusableNames: ['', 'a b.fr', 'a_b.fr'],
    });
  });
  it.each([[['']], [['', ' ']], [['not a domain']], [['-x-.fr', '.']]])('reads %j, a list without one valid name, as invalid (never as [])', (value) => {
    expect(readEntitledDomains(value)).toMatchObject({ kind: 'invalid' });
  });
  it('reads [] as entitled to nothing', () => {
    expect(readEntitledDomains([])).toEqual({ kind: 'list', names: [], unusableNames: [] });
  });
});

describe('planAdminSync', () => {
  const domains = ['a', 'b', 'c', 'd'].map((letter) => ({ id: `id-${letter}`, name: `${letter}.fr` }));
  const access = (letter: string, role: ExistingAccess['role'], source: ExistingAccess['source']): ExistingAccess => ({
    id: `acc-${letter}`,
    maildomainId: `id-${letter}`,
    role,
    source,
  });

  const none = { notAdmin: [], notEntitled: [], unknownNames: [] };

  it('grants entitled domains without a row, counts unknown and unusable names', () => {
    const plan = planAdminSync(
      { ...none, notAdmin: [{ domain: domains[0]!, access: null }], unknownNames: ['zz.fr'] },
      { preserveManual: false, unusableNames: ['a b'] },
    );
    expect(plan).toEqual({ grants: [domains[0]], upgrades: [], revocations: [], unknownDomains: ['zz.fr', 'a b'] });
  });

  it('upgrades rows of another role', () => {
    const plan = planAdminSync({ ...none, notAdmin: [{ domain: domains[0]!, access: access('a', 'VIEWER', 'MANUAL') }] }, { preserveManual: false });
    expect(plan.upgrades).toEqual([{ access: access('a', 'VIEWER', 'MANUAL'), domain: domains[0] }]);
    expect(plan.grants).toEqual([]);
    expect(plan.revocations).toEqual([]);
  });

  it('revokes ADMIN rows no longer entitled, never other roles; preserve-manual spares MANUAL rows', () => {
    const notEntitled = [access('a', 'ADMIN', 'ENTITLEMENTS'), access('b', 'ADMIN', 'MANUAL'), access('c', 'VIEWER', 'ENTITLEMENTS')].map((row, i) => ({
      domain: domains[i]!,
      access: row,
    }));
    const all = planAdminSync({ ...none, notEntitled }, { preserveManual: false });
    expect(all.revocations.map(({ access: row }) => row.id)).toEqual(['acc-a', 'acc-b']);
    const preserved = planAdminSync({ ...none, notEntitled }, { preserveManual: true });
    expect(preserved.revocations.map(({ access: row }) => row.id)).toEqual(['acc-a']);
  });

  it('is empty when nothing may change (the read found no candidate)', () => {
    const plan = planAdminSync({ ...none, unknownNames: ['zz.fr'] }, { preserveManual: false });
    expect(isEmptyPlan(plan)).toBe(true);
    expect(plan.unknownDomains).toEqual(['zz.fr']);
  });
});
