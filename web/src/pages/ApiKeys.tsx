import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { del, get, post } from '../api.js';
import { ago, dateTime } from '../format.js';
import { useTitle } from '../router.js';
import type { ApiKey } from '../types.js';
import { Button, Callout, Card, ConfirmDialog, CopyField, Dialog, EmptyState, ErrorState, Field, Loading, PageHeader, Status, errorMessage } from '../ui/basics.js';

function CreateKeyDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const qc = useQueryClient();
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const create = useMutation({ mutationFn: () => post<ApiKey>('/dashboard/api/api-keys', { name: name.trim() }), onSuccess: () => void qc.invalidateQueries({ queryKey: ['api-keys'] }) });
  const close = () => {
    create.reset();
    setName('');
    onClose();
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const p = name.trim() ? null : 'Name the key after what uses it, e.g. “CI” or “backend”';
    setError(p);
    if (!p) create.mutate();
  };
  return (
    <Dialog open={open} onClose={close} title={create.data ? 'Copy your new API key' : 'Create an API key'}>
      {create.data?.key ? (
        <div className="stack" data-testid="new-key">
          <Callout tone="warn" title="This is the only time the key is shown">
            Store it in your secret manager now. If you lose it, revoke it and create another.
          </Callout>
          <CopyField value={create.data.key} label="API key" testId="new-key-value" />
          <div className="row">
            <span className="grow" />
            <Button variant="primary" onClick={close}>
              Done
            </Button>
          </div>
        </div>
      ) : (
        <form className="form" onSubmit={submit} noValidate>
          {create.error ? <Callout tone="danger">{errorMessage(create.error)}</Callout> : null}
          <Field label="Name" error={error} required hint="Send it as Authorization: Bearer <key> to the v3 API.">
            {(p) => <input {...p} className="input" value={name} onChange={(e) => setName(e.target.value)} autoFocus />}
          </Field>
          <div className="row">
            <span className="grow" />
            <Button onClick={close}>Cancel</Button>
            <Button type="submit" variant="primary" busy={create.isPending}>
              Create key
            </Button>
          </div>
        </form>
      )}
    </Dialog>
  );
}

export function ApiKeysPage() {
  useTitle('API keys');
  const qc = useQueryClient();
  const keys = useQuery({ queryKey: ['api-keys'], queryFn: () => get<ApiKey[]>('/dashboard/api/api-keys') });
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const revoke = useMutation({
    mutationFn: (id: string) => del(`/dashboard/api/api-keys/${id}`),
    onSuccess: () => {
      setRevoking(null);
      void qc.invalidateQueries({ queryKey: ['api-keys'] });
    },
  });
  return (
    <div className="stack">
      <PageHeader
        title="API keys"
        description="Keys authenticate your backend to this application’s v3 API. Each key belongs to the selected application."
        actions={
          <Button variant="primary" icon="plus" onClick={() => setCreating(true)}>
            Create key
          </Button>
        }
      />
      <Card>
        {keys.error ? (
          <ErrorState error={keys.error} retry={() => void keys.refetch()} what="API keys" />
        ) : !keys.data ? (
          <Loading />
        ) : keys.data.length === 0 ? (
          <EmptyState icon="key" title="No API keys" actions={<Button variant="primary" onClick={() => setCreating(true)}>Create key</Button>}>
            Create a key for each service that calls the API, so you can revoke one without touching the others.
          </EmptyState>
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="keys-table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Key</th>
                  <th scope="col" className="hide-s">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Status</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {keys.data.map((k) => (
                  <tr key={k.id}>
                    <td className="row-link">{k.name}</td>
                    <td>
                      <span className="tag">{k.prefix}…</span>
                    </td>
                    <td className="muted nowrap hide-s">{dateTime(k.created_at)}</td>
                    <td className="muted nowrap">{k.last_used_at ? ago(k.last_used_at) : 'never'}</td>
                    <td>{k.revoked_at ? <Status value="revoked" /> : <Status value="active" />}</td>
                    <td className="nowrap">
                      {k.revoked_at ? null : (
                        <Button small variant="danger" onClick={() => setRevoking(k)} aria-label={`Revoke ${k.name}`}>
                          Revoke
                        </Button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      <CreateKeyDialog open={creating} onClose={() => setCreating(false)} />
      <ConfirmDialog
        open={revoking !== null}
        title={`Revoke “${revoking?.name ?? ''}”?`}
        confirmLabel="Revoke key"
        busy={revoke.isPending}
        error={errorMessage(revoke.error)}
        onClose={() => setRevoking(null)}
        onConfirm={() => revoking && revoke.mutate(revoking.id)}
      >
        Requests with this key are refused within seconds. This cannot be undone.
      </ConfirmDialog>
    </div>
  );
}
