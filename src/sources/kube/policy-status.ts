import { PatchStrategy, setHeaderOptions, type CustomObjectsApi } from '@kubernetes/client-node';
import type { AcceptedCondition } from '../../model/index.js';
import { ACCEPTED_CONDITION, POLICY_GROUP, POLICY_PLURAL, POLICY_VERSION } from './policy-source.js';

/** The merge patch of the status subresource that sets `condition` (Herald owns the conditions list). */
export function acceptedStatusPatch(condition: AcceptedCondition): Record<string, unknown> {
  const { writer, ...rest } = condition;
  return {
    status: {
      conditions: [{ type: ACCEPTED_CONDITION, ...rest }],
      acceptedBy: { replica: writer.replica, ...(writer.cluster === undefined ? {} : { cluster: writer.cluster }) },
    },
  };
}

export interface PolicyStatusTarget {
  cluster: string;
  namespace: string;
  name: string;
  condition: AcceptedCondition;
}

/**
 * Writes a ServicePolicy's Accepted condition to the cluster it was read from, with the
 * credentials Herald reads it with. Resolves when written; rejects with the API's error.
 */
export function kubePolicyStatusWriter(apis: ReadonlyMap<string, Pick<CustomObjectsApi, 'patchNamespacedCustomObjectStatus'>>) {
  return async (target: PolicyStatusTarget): Promise<void> => {
    const api = apis.get(target.cluster);
    if (!api) throw new Error(`no Kubernetes client for cluster ${target.cluster}`);
    await api.patchNamespacedCustomObjectStatus(
      {
        group: POLICY_GROUP,
        version: POLICY_VERSION,
        namespace: target.namespace,
        plural: POLICY_PLURAL,
        name: target.name,
        body: acceptedStatusPatch(target.condition),
        fieldManager: 'herald',
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  };
}
