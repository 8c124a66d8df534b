import { describe, expect, it } from 'vitest';
import {
  buildStreamMetadata,
  type CatalogEntry,
  CatalogError,
  isBreadcrumbSelected,
  isStreamSelected,
  keyPropertiesOf,
  type MetadataEntry,
  parseCatalog,
  replicationKeyOf,
  replicationMethodOf,
  selectedProperties,
  selectRecordProperties,
  selectSchemaProperties,
} from '../src/index.js';

const schema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    updated_at: { type: 'string', format: 'date-time' },
    name: { type: 'string' },
    email: { type: 'string' },
    secret: { type: 'string' },
    address: { type: 'object', properties: { city: { type: 'string' } } },
  },
  required: ['id', 'email'],
};

function entry(metadata?: MetadataEntry[]): CatalogEntry {
  return { tap_stream_id: 'users', stream: 'users', schema, ...(metadata ? { metadata } : {}) };
}

const stream = (metadata: MetadataEntry['metadata']): MetadataEntry => ({ breadcrumb: [], metadata });
const field = (name: string, metadata: MetadataEntry['metadata']): MetadataEntry => ({
  breadcrumb: ['properties', name],
  metadata,
});

describe('selection (resolved as the Meltano SDK does)', () => {
  it('selects everything when an entry has no metadata', () => {
    expect(isStreamSelected(entry())).toBe(true);
    expect(selectedProperties(entry())).toBe('all');
  });

  it('does not select a stream whose metadata says nothing about selection', () => {
    expect(isStreamSelected(entry([stream({ inclusion: 'available' })]))).toBe(false);
  });

  it('lets an explicit selected win over selected-by-default', () => {
    expect(isStreamSelected(entry([stream({ selected: false, 'selected-by-default': true })]))).toBe(false);
    expect(isStreamSelected(entry([stream({ 'selected-by-default': true })]))).toBe(true);
  });

  it('never selects unsupported and always selects automatic fields', () => {
    const selected = selectedProperties(
      entry([
        stream({ selected: true }),
        field('id', { inclusion: 'automatic', selected: false }),
        field('secret', { inclusion: 'unsupported', selected: true }),
      ]),
    );
    expect(selected).toEqual(new Set(['id', 'updated_at', 'name', 'email', 'address']));
  });

  it('gives a field without its own decision its parent value', () => {
    const selected = selectedProperties(
      entry([stream({ selected: true }), field('name', { selected: false }), field('email', { 'selected-by-default': false })]),
    );
    expect(selected).toEqual(new Set(['id', 'updated_at', 'secret', 'address']));
  });

  it('deselects every field, automatic ones too, under a deselected stream', () => {
    const deselected = entry([stream({ selected: false }), field('id', { inclusion: 'automatic' })]);
    expect(selectedProperties(deselected)).toEqual(new Set());
    expect(isBreadcrumbSelected(deselected, ['properties', 'id'])).toBe(false);
  });

  it('deselects nested fields under a deselected parent field', () => {
    const nested = entry([
      stream({ selected: true }),
      field('address', { selected: false }),
      { breadcrumb: ['properties', 'address', 'properties', 'city'], metadata: { selected: true } },
    ]);
    expect(isBreadcrumbSelected(nested, ['properties', 'address', 'properties', 'city'])).toBe(false);
  });

  it('filters records and schemas to the selected top-level properties', () => {
    const selected = new Set(['id', 'name']);
    expect(selectRecordProperties({ id: 1, name: 'a', email: 'x', extra: true }, selected)).toEqual({ id: 1, name: 'a' });
    const filtered = selectSchemaProperties(schema, selected);
    expect(Object.keys(filtered.properties as object)).toEqual(['id', 'name']);
    expect(filtered.required).toEqual(['id']);
    const record = { id: 1 };
    expect(selectRecordProperties(record, 'all')).toBe(record);
    const proto = JSON.parse('{"id":1,"__proto__":"kept"}') as Record<string, unknown>;
    expect(JSON.stringify(selectRecordProperties(proto, new Set(['__proto__'])))).toBe('{"__proto__":"kept"}');
  });
});

describe('parseCatalog', () => {
  it('reads "selected": "true" strings and null optional keys', () => {
    const catalog = parseCatalog(
      JSON.stringify({
        streams: [
          {
            tap_stream_id: 'users',
            stream: 'users',
            schema,
            replication_key: null,
            metadata: [
              { breadcrumb: [], metadata: { selected: 'true', 'replication-method': 'incremental', 'replication-key': 'updated_at' } },
            ],
          },
        ],
      }),
    );
    const users = catalog.streams[0]!;
    expect(isStreamSelected(users)).toBe(true);
    expect(replicationMethodOf(users)).toBe('INCREMENTAL');
    expect(replicationKeyOf(users)).toBe('updated_at');
    expect(users.replication_key).toBeUndefined();
  });

  it('reads the legacy --properties form with selected inside the schema', () => {
    const legacy = {
      streams: [
        {
          stream: 'users',
          tap_stream_id: 'users',
          schema: {
            ...schema,
            selected: true,
            properties: { id: { type: 'integer', selected: true }, name: { type: 'string', selected: false } },
          },
        },
      ],
    };
    const users = parseCatalog(legacy).streams[0]!;
    expect(isStreamSelected(users)).toBe(true);
    expect(selectedProperties(users)).toEqual(new Set(['id']));
  });

  it('falls back to stream when tap_stream_id is missing', () => {
    expect(parseCatalog({ streams: [{ stream: 'users', schema }] }).streams[0]?.tap_stream_id).toBe('users');
  });

  it('names the stream and key of a bad entry', () => {
    expect(() => parseCatalog({ streams: [{ stream: 'users', tap_stream_id: 'users' }] })).toThrow(CatalogError);
    expect(() => parseCatalog({ streams: [{ stream: 'users', tap_stream_id: 'users' }] })).toThrow(
      /^catalog \(stream "users"\): streams\[0\]\.schema: /,
    );
    expect(() => parseCatalog('{')).toThrow(/^catalog: invalid JSON/);
  });
});

describe('buildStreamMetadata', () => {
  it('writes discovery metadata with key and replication-key fields automatic', () => {
    const metadata = buildStreamMetadata({
      schema,
      keyProperties: ['id'],
      validReplicationKeys: ['updated_at'],
      forcedReplicationMethod: 'INCREMENTAL',
      selectedByDefault: true,
      unsupportedProperties: ['secret'],
    });
    expect(metadata[0]).toEqual({
      breadcrumb: [],
      metadata: {
        inclusion: 'available',
        'table-key-properties': ['id'],
        'forced-replication-method': 'INCREMENTAL',
        'valid-replication-keys': ['updated_at'],
        'selected-by-default': true,
      },
    });
    const inclusion = Object.fromEntries(metadata.slice(1).map((m) => [m.breadcrumb[1], m.metadata.inclusion]));
    expect(inclusion).toEqual({
      id: 'automatic',
      updated_at: 'automatic',
      name: 'available',
      email: 'available',
      secret: 'unsupported',
      address: 'available',
    });
    const discovered = { tap_stream_id: 'users', stream: 'users', schema, metadata };
    expect(isStreamSelected(discovered)).toBe(true);
    expect(selectedProperties(discovered)).toEqual(new Set(['id', 'updated_at', 'name', 'email', 'address']));
    expect(keyPropertiesOf(discovered)).toEqual(['id']);
    expect(replicationMethodOf(discovered)).toBe('INCREMENTAL');
  });
});
