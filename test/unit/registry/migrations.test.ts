import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR, listMigrations } from '../../../src/registry/index.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) {
    fs.rmSync(d, { recursive: true, force: true });
  }
});

function dirWith(files: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gk-migrations-'));
  dirs.push(dir);
  for (const f of files) {
    fs.writeFileSync(path.join(dir, f), '-- sql');
  }
  return dir;
}

describe('listMigrations', () => {
  it('orders NNNN_*.sql files by version and ignores everything else', async () => {
    const dir = dirWith([
      '0010_later.sql',
      '0002_conversation_bindings.sql',
      '0001_nodes.sql',
      'README.md',
      '0003-no-underscore.sql',
      '12_short.sql',
      '0004_draft.sql.bak',
    ]);
    const names = (await listMigrations(dir)).map((m) => m.name);
    expect(names).toEqual(['0001_nodes.sql', '0002_conversation_bindings.sql', '0010_later.sql']);
    expect((await listMigrations(dir))[2]).toMatchObject({
      version: '0010',
      file: path.join(dir, '0010_later.sql'),
    });
  });

  it('refuses two files with the same version', async () => {
    const dir = dirWith(['0002_a.sql', '0002_b.sql']);
    await expect(listMigrations(dir)).rejects.toThrow(/0002/);
  });

  it('ships 0001_nodes.sql first, creating gemini_service_nodes with the seed columns', async () => {
    const shipped = await listMigrations(MIGRATIONS_DIR);
    expect(shipped[0]?.name).toBe('0001_nodes.sql');
    const sql = fs.readFileSync(path.join(MIGRATIONS_DIR, '0001_nodes.sql'), 'utf8');
    for (const col of [
      'node_url',
      'worker_id',
      'weight',
      'status',
      'last_heartbeat',
      'created_at',
      'dispatched_tasks',
      'current_tasks',
      'cooldown_until',
      'cooldown_reason',
      'login_state',
      'queue_waiting',
    ]) {
      expect(sql).toContain(col);
    }
  });
});
