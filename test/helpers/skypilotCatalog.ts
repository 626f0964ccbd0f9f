/**
 * The SkyPilot catalog files the tests and benchmarks read: a copy kept in the repo
 * (data/skypilot-catalog, with its provenance in MANIFEST.md), so a clone anywhere has them.
 */
import { join } from 'node:path';

export const SKYPILOT_CATALOG_DIR = join(import.meta.dirname, '..', '..', 'data', 'skypilot-catalog');
