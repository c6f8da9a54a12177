// Settings a user mistyped: a TELEMETRY_* variable that is no setting, or a near miss of another name the table
// reads (a Prefect alias, DO_NOT_TRACK). Ignored in silence they look like settings that do nothing
// (TELEMETRY_ENABLE=false leaves telemetry on), so the CLI names them in one warning line when a command starts.
import { closest } from '../suggest.js';
import { SETTINGS, type SettingSpec } from './table.js';

/**
 * Variables that start with this are not settings, by design, and are never warned about: the test harness's
 * own (TELEMETRY_TEST_DATABASE_URL, TELEMETRY_TEST_TIME_SCALE). docs/settings.md says so.
 */
export const NOT_SETTINGS_PREFIX = 'TELEMETRY_TEST_';

const TELEMETRY = 'TELEMETRY';

/** A variable that looks like a setting but is none, with the setting it is nearest to, if any is close. */
export interface MistypedVariable {
  name: string;
  suggestion?: string;
}

/** Every name the table reads: each variable and its alias. */
function settingNames(): string[] {
  return (Object.values(SETTINGS) as SettingSpec<unknown>[]).flatMap((s) => (s.alias === undefined ? [s.env] : [s.env, s.alias]));
}

/**
 * The variables of env that look like settings but are none, in name order: every TELEMETRY_* name the table
 * does not have (but NOT_SETTINGS_PREFIX), and any other name within two edits of one it has (letter case aside:
 * `do_not_track` is not DO_NOT_TRACK outside Windows).
 */
export function mistypedVariables(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): MistypedVariable[] {
  const known = settingNames();
  // Every command runs this over the whole environment: a name that does not start like the table's TELEMETRY_*
  // names is only compared with the few others (a Prefect alias, DO_NOT_TRACK), not with all of them.
  const others = known.filter((name) => !name.startsWith(TELEMETRY));
  const found: MistypedVariable[] = [];
  for (const name of Object.keys(env).sort()) {
    const upper = name.toUpperCase();
    // Windows variable names ignore case, so TELEMETRY_home there is TELEMETRY_HOME.
    if (known.includes(platform === 'win32' ? upper : name) || upper.startsWith(NOT_SETTINGS_PREFIX)) continue;
    const ours = upper.startsWith(TELEMETRY);
    const suggestion = closest(upper, ours ? known : others);
    if (upper.startsWith(`${TELEMETRY}_`) || suggestion !== undefined) found.push({ name, ...(suggestion === undefined ? {} : { suggestion }) });
  }
  return found;
}

/** The one warning line for the mistyped variables of env, or undefined when there is none. */
export function mistypedWarning(env: NodeJS.ProcessEnv, platform?: NodeJS.Platform): string | undefined {
  const found = mistypedVariables(env, platform);
  if (found.length === 0) return undefined;
  const named = found.map(({ name, suggestion }) => (suggestion === undefined ? name : `${name} (did you mean ${suggestion}?)`));
  return `ignoring ${named.join(', ')}: not ${found.length === 1 ? 'a setting' : 'settings'}; see docs/settings.md`;
}
