// The Mermaid statecharts: exact output for a small machine, content of both real ones, and the committed doc is fresh.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromPromise, setup } from 'xstate';
import { serverMachine } from '../machines/serverMachine.js';
import { telemetryMachine } from '../machines/telemetryMachine.js';
import { renderStatechartsDoc, toMermaid } from '../scripts/diagram.js';

const tinyMachine = setup({
  actors: { fetchIt: fromPromise(async () => 1) },
  guards: { ok: () => true },
  delays: { pause: 10 },
  actions: { remember: () => {} },
}).createMachine({
  id: 'tiny',
  initial: 'idle',
  on: { 'tiny.cancel': '.done' },
  states: {
    idle: { on: { 'tiny.go': [{ guard: 'ok', target: 'busy' }, { target: 'done' }] } },
    busy: {
      initial: 'loading',
      on: { 'tiny.ping': { actions: 'remember' } },
      states: {
        loading: { invoke: { id: 'fetchIt', src: 'fetchIt', onDone: 'resting', onError: '#tiny.done' } },
        resting: { after: { pause: '#tiny.idle' } },
      },
    },
    done: { type: 'final' },
  },
});

const TINY = `stateDiagram-v2
  direction LR
  state tiny {
    [*] --> idle
    idle
    note right of busy
      tiny.ping / remember
    end note
    state busy {
      [*] --> loading
      state "loading" as loading
      loading : invoke fetchIt
      resting
      loading --> resting : done#58; fetchIt
    }
    idle --> busy : tiny.go [ok]
  }
  done
  done --> [*]
  idle --> done : tiny.go [else]
  loading --> done : error#58; fetchIt
  resting --> idle : after pause
  tiny --> done : tiny.cancel
`;

/** Every `a --> b : label` line of a diagram. */
function edges(diagram: string): Array<{ from: string; to: string; label: string }> {
  return [...diagram.matchAll(/^\s*(\S+) --> (\S+)(?: : (.*))?$/gm)].map(([, from, to, label]) => ({
    from: from!,
    to: to!,
    label: label ?? '',
  }));
}

describe('toMermaid', () => {
  it('draws a small machine exactly: nesting, invoke, guards, delay, final, and a root event as one arrow from a box', () => {
    expect(toMermaid(tinyMachine, { direction: 'LR' })).toBe(TINY);
  });

  it('is deterministic', () => {
    expect(toMermaid(serverMachine)).toBe(toMermaid(serverMachine));
  });

  it('uses valid Mermaid ids, and labels with no raw `:`, `;` or `#`, in both machines', () => {
    for (const machine of [telemetryMachine, serverMachine]) {
      const found = edges(toMermaid(machine));
      expect(found.length).toBeGreaterThan(5);
      for (const { from, to, label } of found) {
        expect(from).toMatch(/^(\[\*\]|[A-Za-z0-9_]+)$/);
        expect(to).toMatch(/^(\[\*\]|[A-Za-z0-9_]+)$/);
        // Entity codes (`#58;`) are how Mermaid takes a `:`; anything else would end the label.
        expect(label.replace(/#\w+;/g, '')).not.toMatch(/[:;#]/);
      }
    }
  });

  it('draws no two arrows between the same two states (Mermaid 11 drops repeated self-transitions)', () => {
    for (const machine of [telemetryMachine, serverMachine]) {
      const pairs = edges(toMermaid(machine)).map(({ from, to }) => `${from} --> ${to}`);
      expect(new Set(pairs).size, pairs.join('\n')).toBe(pairs.length);
    }
  });
});

describe('the project statecharts', () => {
  it('telemetry: every state, both actors, the delay and both events', () => {
    const diagram = toMermaid(telemetryMachine);
    for (const word of ['idle', 'loadingSession', 'sending', 'waiting', 'stopped', 'loadSession', 'sendHeartbeat']) {
      expect(diagram).toContain(word);
    }
    expect(diagram).toContain('[*] --> idle');
    expect(diagram).toContain('stopped --> [*]');
    expect(diagram).toContain('loadingSession : invoke loadSession');
    expect(diagram).toContain('sending : invoke sendHeartbeat');
    expect(diagram).toContain('waiting --> sending : after loopInterval');
    // The result of a send is recorded once; `waiting` decides on it: stop, send again at once, or wait.
    expect(diagram).toContain('sending --> waiting : done#58; sendHeartbeat<br/>error#58; sendHeartbeat');
    expect(diagram).toContain('idle --> loadingSession : telemetry.start');
    expect(diagram).toContain('loadingSession --> stopped : error#58; loadSession');
    expect(diagram).toContain('waiting --> stopped : always [isGone]<br/>always [outOfRetries]<br/>always [isLastLoop]');
    // Both ways back to sending on one arrow, a label line each.
    expect(diagram).toContain('waiting --> sending : after loopInterval<br/>always [isDueNow]');
    // The root-level stop: once, from the box around every state it leaves.
    expect(diagram).toMatch(/state telemetry \{\n {4}\[\*\] --> idle\n/);
    expect(diagram.match(/telemetry\.stop/g)).toHaveLength(1);
    expect(diagram).toContain('telemetry --> stopped : telemetry.stop');
    expect(diagram).not.toContain('stopped --> stopped');
  });

  it('server: composite states and the shutdown event', () => {
    const diagram = toMermaid(serverMachine);
    for (const word of ['starting', 'running', 'stopping', 'stopped', 'server.shutdown']) {
      expect(diagram).toContain(word);
    }
    expect(diagram).toContain('state starting {');
    expect(diagram).toContain('state running {');
    expect(diagram).toContain('[*] --> starting');
    expect(diagram).toContain('stopped --> [*]');
    // Drawn once from the box around starting and running; stopping overrides it (ignored there).
    expect(diagram).toContain('server --> stopping : server.shutdown');
    expect(diagram).toContain('stopping : server.shutdown / ignored');
  });

  it('server: shows the telemetry child it spawns', () => {
    expect(toMermaid(serverMachine)).toContain('hostingTelemetry : spawn telemetry');
  });

  it('docs/statecharts.md is up to date', () => {
    const committed = readFileSync(new URL('../docs/statecharts.md', import.meta.url), 'utf8');
    expect(committed, 'docs/statecharts.md is stale: run `npm run docs`').toBe(renderStatechartsDoc());
  });

  it('the doc says it is generated, then has a Mermaid block per machine', () => {
    const doc = renderStatechartsDoc();
    expect(doc.split('\n')[0]).toMatch(/Generated by `npm run docs`.*Do not edit by hand/);
    expect(doc.match(/```mermaid\nstateDiagram-v2\n/g)).toHaveLength(2);
  });
});
