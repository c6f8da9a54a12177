// The statechart as a drawing model: ids, edges per block, notes per state, read from an xstate machine definition.
import type { AnyStateMachine, AnyStateNode, AnyTransitionDefinition } from 'xstate';

/**
 * A box drawn around the top-level states that a machine-level event (`telemetry.stop`) leaves, so that
 * event is one arrow from the box rather than one per state. It exists in the drawing only.
 */
export interface Group {
  id: string;
  members: Set<AnyStateNode>;
}

/** Where a line is written: inside a state's block, or inside the drawing-only group. */
export type Block = AnyStateNode | Group;

/** Where things go while walking the machine: edges per enclosing block, text lines per state. */
export interface Model {
  ids: Map<AnyStateNode, string>;
  /** Per block, `from --> to` pairs with their labels in order: parallel edges are drawn as one arrow. */
  edges: Map<Block, Map<string, string[]>>;
  notes: Map<AnyStateNode, string[]>;
  group?: Group;
}

// Mermaid's state grammar ends a label at `:` or `;` and reads `#`/`%` specially, so these are written as
// entity codes (`#58;` renders as `:`); that is how `done: loadSession` can be a label at all.
const ENTITIES: Record<string, string> = { '#': '#35;', ':': '#58;', ';': '#59;', '"': '#quot;', '%': '#37;' };
// Words the Mermaid lexer takes as keywords where an id is expected (`default` even as a prefix).
const RESERVED = /^(default|(state|note|class|classdef|style|scale|direction|click|hide|end)$)/i;

/** Label text Mermaid can parse: `:`, `;`, `#`, `"` and `%` as entity codes, whitespace collapsed. */
export function text(raw: string): string {
  return raw.replace(/[#:;"%]/g, (c) => ENTITIES[c] ?? c).replace(/\s+/g, ' ').trim();
}

function descendants(node: AnyStateNode): AnyStateNode[] {
  return Object.values(node.states).flatMap((child) => [child, ...descendants(child)]);
}

/** Mermaid ids are global: a state keeps its own key unless another state shares it, then its path names it. */
function assignIds(nodes: AnyStateNode[]): Map<AnyStateNode, string> {
  const keyCount = new Map<string, number>();
  for (const n of nodes) keyCount.set(n.key, (keyCount.get(n.key) ?? 0) + 1);
  const ids = new Map<AnyStateNode, string>();
  const taken = new Set<string>();
  for (const n of nodes) {
    let id = (keyCount.get(n.key) === 1 ? n.key : n.path.join('_')).replace(/[^A-Za-z0-9_]/g, '_');
    if (RESERVED.test(id)) id = `s_${id}`;
    while (taken.has(id)) id = `${id}_`;
    taken.add(id);
    ids.set(n, id);
  }
  return ids;
}

function nameOf(item: unknown, fallback: string): string {
  if (typeof item === 'string') return item;
  const named = item as { type?: unknown; name?: unknown } | null;
  if (typeof named?.type === 'string') return named.type;
  return typeof named?.name === 'string' && named.name !== '' ? named.name : fallback;
}

/** Named guards by name; xstate's `and`/`or`/`not` helpers as calls over their parts. */
function guardLabel(guard: unknown): string {
  const parts = (guard as { guards?: unknown } | null)?.guards;
  if (typeof guard === 'function' && Array.isArray(parts)) return `${guard.name}(${parts.map(guardLabel).join(', ')})`;
  return nameOf(guard, 'inline guard');
}

const ACTOR_EVENTS: Array<[prefix: string, word: string]> = [
  ['xstate.done.actor.', 'done'],
  ['xstate.error.actor.', 'error'],
  ['xstate.snapshot.', 'snapshot'],
];

function eventLabel(t: AnyTransitionDefinition, source: AnyStateNode): string {
  if ('delay' in t) {
    const delay = (t as { delay: unknown }).delay;
    return `after ${typeof delay === 'number' ? `${delay} ms` : nameOf(delay, 'inline delay')}`;
  }
  const type = String(t.eventType);
  if (type === '') return 'always';
  for (const [prefix, word] of ACTOR_EVENTS) if (type.startsWith(prefix)) return `${word}: ${type.slice(prefix.length)}`;
  if (type.startsWith('xstate.done.state.')) {
    const state = type.slice('xstate.done.state.'.length);
    return state === source.id ? 'done' : `done: ${state}`;
  }
  return type;
}

/** One event's candidates in order; an unguarded one after guarded ones is their `[else]`. */
function labelled(group: AnyTransitionDefinition[], source: AnyStateNode): Array<[AnyTransitionDefinition, string]> {
  let guardedBefore = false;
  return group.map((t) => {
    const guard = t.guard === undefined ? (guardedBefore ? '[else]' : '') : `[${guardLabel(t.guard)}]`;
    guardedBefore ||= t.guard !== undefined;
    return [t, [eventLabel(t, source), guard].filter(Boolean).join(' ')];
  });
}

function groupsOf(node: AnyStateNode): AnyTransitionDefinition[][] {
  const groups = [...node.transitions.values()];
  if (node.always?.length) groups.push(node.always);
  return groups;
}

function isProperAncestor(a: AnyStateNode, b: AnyStateNode): boolean {
  return a.path.length < b.path.length && a.path.every((key, i) => b.path[i] === key);
}

/** The innermost block drawing both ends: Mermaid misplaces states referenced inside a foreign block. */
function blockFor(model: Model, from: AnyStateNode, to: AnyStateNode): Block {
  let block = from.parent ?? from;
  while (block.parent && !isProperAncestor(block, to)) block = block.parent;
  // Lines after the last `--` of a parallel state would land in its last region.
  while (block.parent && block.type === 'parallel') block = block.parent;
  // Only edges between two states of the group go inside it: Mermaid misplaces a nested state that an edge
  // inside a block names from outside its own block.
  const group = model.group;
  if (block.parent === undefined && group?.members.has(from) && group.members.has(to)) return group;
  return block;
}

function push(map: Map<AnyStateNode, string[]>, node: AnyStateNode, line: string): void {
  map.set(node, [...(map.get(node) ?? []), line]);
}

/** Adds an edge; a second one between the same two states joins the first arrow as another label line. */
function addEdge(model: Model, block: Block, pair: string, label: string): void {
  const edges = model.edges.get(block) ?? new Map<string, string[]>();
  model.edges.set(block, edges);
  edges.set(pair, [...(edges.get(pair) ?? []), label]);
}

/** Adds the transitions of `owner` as drawn from `from` (the same node, except for the root's). */
function addTransitions(model: Model, owner: AnyStateNode, from: AnyStateNode, skip = new Set<string>()): void {
  for (const group of groupsOf(owner)) {
    for (const [t, label] of labelled(group, owner)) {
      if (skip.has(String(t.eventType))) continue;
      if (!t.target?.length) {
        // Targetless: the state stays as it is, so it is written inside the state, UML's `event / action`.
        const actions = t.actions.map((a) => nameOf(a, 'inline action'));
        push(model.notes, from, `${label} / ${actions.length ? actions.join(', ') : 'ignored'}`);
        continue;
      }
      for (const to of t.target) addEdge(model, blockFor(model, from, to), `${model.ids.get(from)} --> ${model.ids.get(to)}`, label);
    }
  }
}

function invokeLines(node: AnyStateNode): string[] {
  return node.invoke.map((inv) => {
    const src = typeof inv.src === 'string' && !inv.src.startsWith('xstate.invoke.') ? inv.src : inv.id;
    return src === inv.id ? `invoke ${src}` : `invoke ${src} as ${inv.id}`;
  });
}

/** `spawn <src>` for each spawnChild among the entry actions (named ones are looked up in the machine's setup). */
function spawnLines(machine: AnyStateMachine, node: AnyStateNode): string[] {
  const named = (machine.implementations.actions ?? {}) as Record<string, unknown>;
  return node.entry.flatMap((entry) => {
    const action = (typeof entry === 'string' ? named[entry] : entry) as { type?: unknown; src?: unknown; id?: unknown } | undefined;
    if (action?.type !== 'xstate.spawnChild' || typeof action.src !== 'string') return [];
    const id = typeof action.id === 'string' ? action.id : action.src;
    return [id === action.src ? `spawn ${action.src}` : `spawn ${action.src} as ${id}`];
  });
}

/** The event types the root handles itself (`telemetry.stop`). */
function rootEvents(root: AnyStateNode): Set<string> {
  return new Set(groupsOf(root).map((group) => String(group[0]?.eventType)));
}

/** The group: every top-level state that is not final and overrides none of the root's events; two at least. */
function groupFor(root: AnyStateNode, ids: Map<AnyStateNode, string>): Group | undefined {
  const events = rootEvents(root);
  if (events.size === 0) return undefined;
  const members = Object.values(root.states).filter(
    (top) => top.type !== 'final' && !groupsOf(top).some((group) => events.has(String(group[0]?.eventType))),
  );
  if (members.length < 2) return undefined;
  let id = root.id.replace(/[^A-Za-z0-9_]/g, '_');
  if (RESERVED.test(id)) id = `s_${id}`;
  while ([...ids.values()].includes(id)) id = `${id}_`;
  return { id, members: new Set(members) };
}

/** Walks the machine once: ids, edges by block (parallel ones merged), notes per state, the root-event group. */
export function buildModel(machine: AnyStateMachine): Model {
  const root = machine.root;
  const nodes = descendants(root);
  const ids = assignIds(nodes);
  const model: Model = { ids, edges: new Map(), notes: new Map(), group: groupFor(root, ids) };
  for (const node of nodes) {
    for (const line of [...invokeLines(node), ...spawnLines(machine, node)]) push(model.notes, node, line);
    if (node.type === 'history') push(model.notes, node, `${node.history || 'shallow'} history`);
    addTransitions(model, node, node);
  }
  // The root's own transitions (`telemetry.stop`, `server.shutdown`) leave every state: drawn once from the
  // group's box, and from each state outside it that does not override them (a final state never does).
  for (const top of Object.values(root.states)) {
    if (top.type === 'final' || model.group?.members.has(top)) continue;
    const own = new Set(groupsOf(top).map((group) => String(group[0]?.eventType)));
    addTransitions(model, root, top, own);
  }
  if (model.group) addGroupTransitions(model, root, model.group);
  const initial = root.initial?.target[0];
  for (const line of invokeLines(root)) if (initial) push(model.notes, initial, `machine: ${line}`);
  return model;
}

/** The root's transitions, drawn from the group's box (at the root level, where both ends are visible). */
function addGroupTransitions(model: Model, root: AnyStateNode, group: Group): void {
  for (const groupOfEvent of groupsOf(root)) {
    for (const [t, label] of labelled(groupOfEvent, root)) {
      for (const to of t.target ?? []) addEdge(model, root, `${group.id} --> ${model.ids.get(to)}`, label);
    }
  }
}
