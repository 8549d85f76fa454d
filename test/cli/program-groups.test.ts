/**
 * The command line registers only the group of commands a run names (electron/cli/main.ts), so
 * the list of which registration adds which top-level commands must stay true, and a run that
 * names a command, passes the program's options first, or asks for help must see what it saw
 * when every command was registered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { buildProgram, commandNamed, COMMAND_GROUPS } from '../../electron/cli/main';
import { ensureCliBuilt, makeLab, ok } from './helpers';

test('each registration adds exactly the top-level commands the list gives it', () => {
  for (const [register, names] of COMMAND_GROUPS) {
    const p = new Command('qpki');
    register(p);
    assert.deepEqual(p.commands.map((c) => c.name()).sort(), [...names].sort(), register.name);
  }
  const all = buildProgram().commands.map((c) => c.name()).sort();
  assert.deepEqual(all, COMMAND_GROUPS.flatMap(([, n]) => n).sort(), 'the full program is the union of the groups');
});

test('the command a run names is found past the program options; anything else registers everything', () => {
  assert.equal(commandNamed(['cert', 'issue', '--csr', 'x']), 'cert');
  assert.equal(commandNamed(['--operator', 'ca', '--witness', 'W', '--json', 'crl', 'gen']), 'crl', 'an option value that is a command name is not the command');
  assert.equal(commandNamed(['--purpose=Spare token', 'token', 'init']), 'token');
  assert.equal(commandNamed(['--help']), undefined);
  assert.equal(commandNamed(['help', 'ca']), undefined);
  assert.equal(commandNamed(['--bogus', 'ca', 'info']), undefined, 'an unknown option first: commander reports it with the full program');
  assert.equal(commandNamed(['certs']), undefined, 'a misspelt command gets the suggestions of the full program');
  assert.equal(commandNamed([]), undefined);
  assert.deepEqual(buildProgram(['--operator', 'ca', 'journal', 'show']).commands.map((c) => c.name()), ['journal', 'profile']);
});

test('help and a misspelt command read as before: every command listed or suggested', async () => {
  await ensureCliBuilt();
  const lab = makeLab();
  try {
    const help = ok(lab.run(['--help']));
    for (const name of COMMAND_GROUPS.flatMap(([, n]) => n)) assert.match(help, new RegExp(`^  ${name}\\b`, 'm'), `--help lists ${name}`);
    const typo = lab.run(['crendential', 'enroll']);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /unknown command 'crendential'[\s\S]*credential/);
    const sub = ok(lab.run(['--operator', 'Carol', 'ca', '--help']));
    assert.match(sub, /^  init\b/m);
  } finally {
    lab.cleanup();
  }
});
