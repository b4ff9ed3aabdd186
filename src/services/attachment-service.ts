import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../domain/errors.ts';
import { isId, newId } from '../domain/ids.ts';
import type { BlobStore } from '../store/blob-store.ts';
import type { RecordTable } from '../store/schema.ts';
import { inTransaction, type Actor, type ServiceDeps } from './context.ts';
import { requireModule } from '../domain/modules.ts';
import { accessToRow, readFilterOf, requireModulePermission } from './authorization.ts';
import { ACCESS } from '../domain/sharing.ts';
import { attachmentKey } from './recycle-bin-service.ts';

export const MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024;

/** Attachments: bytes in the blob store, the record (and its audit entry) in the database. */
export function createAttachmentService(deps: ServiceDeps, blobs: BlobStore) {
  const { store } = deps;

  async function liveParent(actor: Actor, moduleName: string, parentId: string): Promise<RecordTable> {
    const module = requireModule(moduleName);
    requireModulePermission(actor, module, 'edit');
    const [row] = isId(parentId) ? await store.repos.records.byIds(actor.orgId, module.apiName, [parentId]) : [];
    // Adding to a record needs edit access to it under the data sharing settings.
    return requireLive(row && await accessToRow(store.repos, actor, row) >= ACCESS.edit ? row : undefined);
  }

  function requireLive(parent: RecordTable | undefined): RecordTable {
    if (!parent || parent.deleted_at !== null) throw new AppError('INVALID_DATA', 'the related id given seems to be invalid', { resource_path_index: 1 });
    return parent;
  }

  /**
   * Stores an uploaded file and creates its Attachments record under the parent. The bytes are
   * written before the transaction (no I/O inside it) and removed again if it fails.
   * Throws INVALID_DATA for a missing parent, FILE_SIZE_MORE_THAN_ALLOWED_SIZE past 20 MiB.
   */
  async function upload(actor: Actor, moduleName: string, parentId: string, file: { name: string; contentType: string; stream: Readable }) {
    const parent = await liveParent(actor, moduleName, parentId);
    const id = newId();
    const key = attachmentKey(actor.orgId, id);
    const writer = await blobs.writer(key);
    let size = 0;
    file.stream.on('data', (c: Buffer) => { size += c.length; });
    try {
      await pipeline(file.stream, writer.stream);
      if ((file.stream as Readable & { truncated?: boolean }).truncated || size > MAX_ATTACHMENT_BYTES) {
        throw new AppError('FILE_SIZE_MORE_THAN_ALLOWED_SIZE', `attachments are limited to ${MAX_ATTACHMENT_BYTES} bytes`, { limit: MAX_ATTACHMENT_BYTES });
      }
      await writer.commit();
    } catch (e) {
      await writer.abort();
      throw e;
    }
    try {
      return await inTransaction(deps, actor, async (tx) => {
        // The parent may have gone to the bin while the bytes were arriving.
        requireLive((await tx.store.records.byIds(actor.orgId, parent.module, [parent.id]))[0]);
        const by = actor.userId ?? parent.owner_id;
        const row: RecordTable = {
          id, org_id: actor.orgId, module: 'Attachments', name: file.name, owner_id: by,
          data: JSON.stringify({ File_Name: file.name, Size: size, Content_Type: file.contentType }),
          parent_module: parent.module, parent_id: parent.id, created_by: by, created_at: tx.now, modified_by: by, modified_at: tx.now,
          deleted_at: null, deleted_by: null, delete_batch: null,
        };
        await tx.store.records.insert([row]);
        tx.audit({ action: 'added', module: 'Attachments', recordId: id, recordName: file.name, parentModule: parent.module,
          parentId: parent.id, batchId: null, fieldHistory: [{ api_name: 'File_Name', field_label: 'File Name', old: null, new: file.name },
            { api_name: 'Size', field_label: 'Size', old: null, new: size }], extra: { content_type: file.contentType } });
        return row;
      });
    } catch (e) {
      await blobs.remove(key);
      throw e;
    }
  }

  /**
   * A live attachment of a live parent of this module; anything else (another module's record,
   * a deleted parent, a foreign id) answers exactly like a missing attachment.
   */
  async function find(actor: Actor, moduleName: string, parentId: string, attachmentId: string, action: 'view' | 'delete') {
    const module = requireModule(moduleName);
    requireModulePermission(actor, module, action);
    const [row] = isId(attachmentId) ? await store.repos.records.byIds(actor.orgId, 'Attachments', [attachmentId]) : [];
    const [parent] = row && row.parent_module === module.apiName && row.parent_id === parentId
      ? await store.repos.records.byIds(actor.orgId, module.apiName, [parentId]) : [];
    const need = action === 'view' ? ACCESS.read : ACCESS.edit;
    if (!row || row.deleted_at !== null || !parent || parent.deleted_at !== null || await accessToRow(store.repos, actor, parent) < need) {
      throw new AppError('INVALID_DATA', 'the attachment id given seems to be invalid', { resource_path_index: 3 });
    }
    return row;
  }

  /** The bytes of a live attachment of a live parent. */
  async function download(actor: Actor, moduleName: string, parentId: string, attachmentId: string) {
    const row = await find(actor, moduleName, parentId, attachmentId, 'view');
    const stream = await blobs.read(attachmentKey(actor.orgId, row.id));
    if (!stream) throw new AppError('INVALID_DATA', 'the attachment has no content', { resource_path_index: 3 });
    const data = JSON.parse(row.data) as { File_Name: string; Size: number; Content_Type: string };
    return { stream, name: data.File_Name, size: data.Size, contentType: data.Content_Type || 'application/octet-stream' };
  }

  /** Live dependents of a live record in one related list. */
  async function related(actor: Actor, moduleName: string, parentId: string, modules: string[], page: number, perPage: number) {
    const module = requireModule(moduleName);
    requireModulePermission(actor, module, 'view');
    const [parent] = isId(parentId) ? await store.repos.records.byIds(actor.orgId, module.apiName, [parentId]) : [];
    if (!parent || parent.deleted_at !== null || await accessToRow(store.repos, actor, parent) < ACCESS.read) {
      throw new AppError('INVALID_DATA', 'the related id given seems to be invalid', { resource_path_index: 1 });
    }
    // Activities have sharing settings of their own: a related list shows those the reader may see.
    const rows = await store.repos.records.liveDependents(actor.orgId, parentId, modules, perPage + 1, (page - 1) * perPage,
      await readFilterOf(store.repos, actor));
    return { parent, rows: rows.slice(0, perPage), more: rows.length > perPage };
  }

  return { upload, download, related, find };
}

export type AttachmentService = ReturnType<typeof createAttachmentService>;
