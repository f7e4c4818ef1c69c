// Which clients a ClientStatusRequest selects, from its node_matchers. The patterns come from
// whoever calls CSDS, so regexes run on RE2 (re2js: linear time in the id, as Envoy's
// safe_regex), and the number and size of patterns are capped before anything is compiled.
import * as grpc from '@grpc/grpc-js';
import { RE2JS } from 're2js';
import { DEFAULT_CSDS_LIMITS, type CsdsLimits } from './limits.js';
import { RequestError } from './request-error.js';

export interface StringMatcher {
  exact?: string;
  prefix?: string;
  suffix?: string;
  contains?: string;
  safe_regex?: { regex?: string } | null;
  ignore_case?: boolean;
}

export interface RawStatusRequest {
  node_matchers?: Array<{ node_id?: StringMatcher | null; node_metadatas?: unknown[] }>;
}

export type NodeIdTest = (id: string) => boolean;

type PatternLimits = Pick<CsdsLimits, 'maxNodeMatchers' | 'maxPatternBytes'>;

function checkPatternSize(m: StringMatcher, limits: PatternLimits): void {
  for (const pattern of [m.exact, m.prefix, m.suffix, m.contains, m.safe_regex?.regex]) {
    if (!pattern) continue;
    // UTF-8 bytes are at most 3 per UTF-16 unit: most patterns need no encoding to be measured.
    const bytes = pattern.length * 3 <= limits.maxPatternBytes ? pattern.length : Buffer.byteLength(pattern, 'utf8');
    if (bytes > limits.maxPatternBytes) {
      throw new RequestError(
        grpc.status.INVALID_ARGUMENT,
        `a node_id pattern of ${bytes} bytes is over the limit maxPatternBytes (${limits.maxPatternBytes} bytes)`,
        'csds_pattern_too_long',
      );
    }
  }
}

function stringTest(m: StringMatcher): NodeIdTest {
  // As in Envoy, ignore_case applies to the literal matchers; a regex says (?i) itself.
  const fold = m.ignore_case ? (value: string): string => value.toLowerCase() : (value: string): string => value;
  if (m.exact) {
    const exact = fold(m.exact);
    return (id) => fold(id) === exact;
  }
  if (m.prefix) {
    const prefix = fold(m.prefix);
    return (id) => fold(id).startsWith(prefix);
  }
  if (m.suffix) {
    const suffix = fold(m.suffix);
    return (id) => fold(id).endsWith(suffix);
  }
  if (m.contains) {
    const contains = fold(m.contains);
    return (id) => fold(id).includes(contains);
  }
  if (m.safe_regex?.regex !== undefined) {
    let re: RE2JS;
    try {
      re = RE2JS.compile(m.safe_regex.regex);
    } catch (err) {
      throw new RequestError(grpc.status.INVALID_ARGUMENT, `bad node_id regex: ${err instanceof Error ? err.message : String(err)}`, 'csds_bad_regex');
    }
    // matches() is a whole-string match, as Envoy's safe_regex.
    return (id) => re.matches(id);
  }
  // An empty exact matcher matches the empty id only.
  return (id) => id === '';
}

/**
 * Any matcher selects a node (OR); no matchers select every node. Metadata matchers are not
 * supported. Throws a RequestError for a request past `limits` or with a bad pattern.
 */
export function nodeFilter(request: RawStatusRequest, limits: PatternLimits = DEFAULT_CSDS_LIMITS): NodeIdTest {
  const matchers = request.node_matchers ?? [];
  if (matchers.length === 0) return () => true;
  if (matchers.length > limits.maxNodeMatchers) {
    throw new RequestError(grpc.status.INVALID_ARGUMENT, `${matchers.length} node_matchers are over the limit maxNodeMatchers (${limits.maxNodeMatchers})`, 'csds_too_many_matchers');
  }
  // Every size first, so an oversized request costs no compilation at all.
  for (const matcher of matchers) if (matcher.node_id) checkPatternSize(matcher.node_id, limits);
  const tests = matchers.map((matcher) => {
    if ((matcher.node_metadatas ?? []).length > 0) {
      throw new RequestError(grpc.status.UNIMPLEMENTED, 'node_metadatas matchers are not supported; match on node_id', 'csds_unsupported_matcher');
    }
    return matcher.node_id ? stringTest(matcher.node_id) : () => true;
  });
  return (id) => tests.some((test) => test(id));
}
