import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { CommandModule } from 'yargs';
import { ConfigError, loadKubeConfig, validateClusterName, validateDuration } from '../config/index.js';
import { DEFAULT_READER, issueReaderToken, remoteKubeconfig, remoteSecretManifest, RemoteSecretError } from '../remote/index.js';

/** kubectl's choice: the first file of $KUBECONFIG, else ~/.kube/config. */
export function defaultKubeconfigPath(env: NodeJS.ProcessEnv, home: string): string {
  const first = (env['KUBECONFIG'] ?? '').split(delimiter).find((p) => p !== '');
  return first ?? join(home, '.kube', 'config');
}

/** The CA a kubeconfig cluster entry names, base64 as `certificate-authority-data` carries it. */
function caDataOf(cluster: { caData?: string; caFile?: string }): string | undefined {
  if (cluster.caData) return cluster.caData;
  if (!cluster.caFile) return undefined;
  try {
    return readFileSync(cluster.caFile).toString('base64');
  } catch (err) {
    throw new ConfigError(`certificate-authority ${cluster.caFile}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function remoteSecretCommand(setExitCode: (code: number) => void): CommandModule {
  return {
    command: 'remote-secret',
    describe: 'Create a read-only identity for Herald in a remote cluster and print the Secret (a kubeconfig) that lets Herald elsewhere watch it',
    builder: (args) =>
      args
        .option('cluster', { type: 'string', demandOption: true, describe: "the remote cluster's name in the mesh (Herald's --cluster NAME=...)" })
        .option('kubeconfig', { type: 'string', describe: 'kubeconfig with admin rights on the remote cluster (default: $KUBECONFIG, else ~/.kube/config)' })
        .option('context', { type: 'string', describe: 'context of --kubeconfig to use (default: its current context)' })
        .option('server', { type: 'string', describe: "apiserver URL Herald's pods dial (default: the context's server)" })
        .option('token-lifetime', { type: 'string', default: '8760h', describe: 'lifetime asked for the token (the apiserver may grant less; run again before it expires)' })
        .option('namespace', { type: 'string', default: DEFAULT_READER.namespace, describe: 'namespace of the reader ServiceAccount, and of the printed Secret' })
        .option('service-account', { type: 'string', default: DEFAULT_READER.serviceAccount, describe: 'reader ServiceAccount (and ClusterRoleBinding) name' })
        .option('secret-name', { type: 'string', default: 'herald-kubeconfigs', describe: 'name of the printed Secret (the one Herald mounts)' }),
    handler: async (argv) => {
      const cluster = validateClusterName('--cluster', String(argv['cluster']));
      const lifetimeMs = validateDuration('--token-lifetime', argv['tokenLifetime'], { allowZero: false });
      if (lifetimeMs < 600_000) throw new ConfigError('--token-lifetime: the apiserver grants at least 10m');
      const kubeconfigPath = (argv['kubeconfig'] as string | undefined) ?? defaultKubeconfigPath(process.env, homedir());
      const context = argv['context'] as string | undefined;
      const kc = loadKubeConfig({ name: cluster, kubeconfigPath, ...(context ? { context } : {}) });
      const target = kc.getCurrentCluster()!;
      const names = { ...DEFAULT_READER, namespace: String(argv['namespace']), serviceAccount: String(argv['serviceAccount']) };
      try {
        const issued = await issueReaderToken(kc, names, Math.floor(lifetimeMs / 1000));
        const kubeconfig = remoteKubeconfig({
          cluster,
          server: (argv['server'] as string | undefined) ?? target.server,
          caDataBase64: caDataOf(target),
          token: issued.token,
          user: names.serviceAccount,
        });
        process.stdout.write(
          remoteSecretManifest({ cluster, kubeconfig, secretName: String(argv['secretName']), secretNamespace: names.namespace, expiresAt: issued.expiresAt, reader: names }),
        );
        process.stderr.write(`herald remote-secret: ${names.namespace}/${names.serviceAccount} bound to ClusterRole ${names.clusterRole} in ${cluster}; token expires ${issued.expiresAt}\n`);
        setExitCode(0);
      } catch (err) {
        if (!(err instanceof RemoteSecretError)) throw err;
        process.stderr.write(`herald remote-secret: error: ${err.message}\n`);
        setExitCode(1);
      }
    },
  };
}
