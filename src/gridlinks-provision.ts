import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { JobQueue } from './node-red/job-queue';
import { ClosingReport, drainLimitMs, pendingWarning, SETTLE_LIMIT_MS } from './node-red/close-drain';
import { resumeForNode } from './node-red/resume-action';
import { reportStoreAtDeploy } from './node-red/store-status';
import { renewForNode, startAutoRenewal, type RenewSettings } from './node-red/renew-action';
import { DAY_MS, expiryWarning, expiryWindowDays, summaryName } from './node-red/expiry-warnings';
import { deployedStoreFolder } from './node-red/store-folder';
import { buildProvisionOptions, type ProvisionNodeCredentials, type ProvisionNodeProperties } from './node-red/message-options';
import { mqttNodeBroker, outputResult } from './node-red/output';
import type { GridlinksServerNode } from './node-red/server-options';
import { StatusReporter } from './node-red/status';
import { NodeKeyPool, keyPoolSize } from './node-red/node-key-pool';
import { ProvisionError, isProvisionError } from './provisioning/errors';
import { provisionDevice } from './provisioning/index';
import type { KeyAlgorithm } from './provisioning/types';

type ProvisionNodeDef = NodeDef & ProvisionNodeProperties & { server?: string };
type Send = (msg: NodeMessageInFlow) => void;
type Done = (err?: Error) => void;
interface Job {
  msg: NodeMessageInFlow;
  send: Send;
  done: Done;
}

const DEFAULT_MAX_PARALLEL = 4;

/** Status text for a failure: `CA` when the server node's CA is the problem, else the error code. */
function statusCode(error: ProvisionError): string {
  return error.details.field === 'ca' || error.details.field === 'caFile' ? 'CA' : error.code;
}

function parallelLimit(value: unknown): number {
  const limit = Number(value);
  return Number.isInteger(limit) && limit >= 1 && limit <= 64 ? limit : DEFAULT_MAX_PARALLEL;
}

export = function (RED: NodeAPI): void {
  function GridlinksProvision(this: Node<ProvisionNodeCredentials>, config: ProvisionNodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const credentials: ProvisionNodeCredentials = node.credentials ?? {};
    const outputProperty = config.outputProperty?.trim() || 'payload';
    const includePrivateKey = config.includePrivateKey !== false && config.includePrivateKey !== 'false';
    const server = config.server ? (RED.nodes.getNode(config.server) as GridlinksServerNode | null) : null;
    const status = new StatusReporter(
      (s) => node.status(s),
      (key, substitutions) => RED._(key, substitutions),
    );

    const evaluate = (value: string, type: string, msg: NodeMessageInFlow): Promise<unknown> =>
      new Promise((resolve, reject) => {
        RED.util.evaluateNodeProperty(value, type, node, msg, (err, result) => (err ? reject(err) : resolve(result)));
      });

    async function provision(job: Job, signal: AbortSignal): Promise<void> {
      const { msg, send, done } = job;
      if ((msg as { action?: unknown }).action === 'resume') return resume(job, signal);
      if ((msg as { action?: unknown }).action === 'renew') return renew(job, signal);
      let deviceName: string | undefined;
      try {
        const resolved = server?.serverOptions();
        if (!resolved) throw new ProvisionError('INVALID_INPUT', RED._('gridlinks-provision.errors.no-server'), { field: 'server' });
        if (!resolved.ok) throw resolved.error;
        const options = await buildProvisionOptions(config, credentials, msg.payload, { ...resolved.options }, (value, type) => evaluate(value, type, msg));
        deviceName = options.deviceName;
        options.keyPool = keyPool.poolFor(options.keyAlgorithm);
        const result = await provisionDevice(options, signal);
        // A result that settles while the node closes, or is sent but not yet delivered when it starts, is named in a warning.
        closingReport.result(result);
        if (closingReport.gone) return;
        RED.util.setMessageProperty(msg, outputProperty, outputResult(result, includePrivateKey), true);
        const broker = mqttNodeBroker(result, resolved.options);
        if (broker) (msg as NodeMessageInFlow & { broker?: unknown }).broker = broker;
        status.succeeded(result.deviceName);
        send(msg);
        done();
      } catch (error) {
        const failure = isProvisionError(error)
          ? error
          : new ProvisionError('INVALID_INPUT', `Unexpected problem: ${(error as Error)?.message ?? String(error)}`);
        closingReport.failure(deviceName, failure);
        // Cut by the close before anything was sent: nothing to report.
        if (closingReport.gone) return;
        if (closingReport.closing && failure.code === 'ABORTED' && failure.details.requestSent !== true) return done();
        status.failed(statusCode(failure));
        (msg as NodeMessageInFlow & { gridlinksError?: unknown }).gridlinksError = failure.toJSON();
        try {
          done(failure);
        } catch {
          // Node-RED's error routing calls msg.hasOwnProperty: a msg without Object's prototype makes it throw.
          // Log without the message rather than lose the failure.
          node.error(failure);
        }
      }
    }

    /** msg.action = "resume": settle the store folder's pending entries; msg.payload = the reports. */
    async function resume(job: Job, signal: AbortSignal): Promise<void> {
      const { msg, send, done } = job;
      try {
        const resolved = server?.serverOptions();
        if (!resolved) throw new ProvisionError('INVALID_INPUT', RED._('gridlinks-provision.errors.no-server'), { field: 'server' });
        if (!resolved.ok) throw resolved.error;
        if (storeFolderError) throw storeFolderError;
        const outcome = await resumeForNode(resolved.options, storeDir, includePrivateKey, signal);
        outcome.warnings.forEach((warning) => node.warn(warning));
        if (closingReport.gone) return;
        status.resumed(RED._('gridlinks-provision.status.resumed', { ...outcome.counts }), outcome.counts.unknown > 0);
        RED.util.setMessageProperty(msg, outputProperty, outcome.entries, true);
        send(msg);
        done();
      } catch (error) {
        if (closingReport.gone) return;
        const failure = isProvisionError(error)
          ? error
          : new ProvisionError('INVALID_INPUT', `Unexpected problem: ${(error as Error)?.message ?? String(error)}`);
        status.failed(statusCode(failure));
        (msg as NodeMessageInFlow & { gridlinksError?: unknown }).gridlinksError = failure.toJSON();
        done(failure);
      }
    }

    function renewSettings(msg: NodeMessageInFlow): RenewSettings {
      const resolved = server?.serverOptions();
      if (!resolved) throw new ProvisionError('INVALID_INPUT', RED._('gridlinks-provision.errors.no-server'), { field: 'server' });
      if (!resolved.ok) throw resolved.error;
      if (storeFolderError) throw storeFolderError;
      return { props: config, credentials, server: resolved.options, storeDir, evaluate: (value, type) => evaluate(value, type, msg) };
    }

    /** msg.action = "renew": a new certificate for the chain device msg.deviceName (or msg.payload.deviceName); msg.payload = the result. */
    async function renew(job: Job, signal: AbortSignal): Promise<void> {
      const { msg, send, done } = job;
      const payload = msg.payload as { deviceName?: unknown } | undefined;
      const deviceName = (msg as { deviceName?: unknown }).deviceName ?? (typeof payload === 'object' && payload !== null ? payload.deviceName : undefined);
      try {
        const result = await renewForNode(renewSettings(msg), deviceName, signal);
        result.warnings.forEach((warning) => node.warn(warning));
        if (closingReport.gone) return;
        status.resumed(RED._('gridlinks-provision.status.renewed'), false);
        RED.util.setMessageProperty(msg, outputProperty, result, true);
        send(msg);
        done();
      } catch (error) {
        if (closingReport.gone) return;
        const failure = isProvisionError(error) ? error : new ProvisionError('INVALID_INPUT', `Unexpected problem: ${String(error)}`);
        status.failed(statusCode(failure));
        (msg as NodeMessageInFlow & { gridlinksError?: unknown }).gridlinksError = failure.toJSON();
        done(failure);
      }
    }

    const closingReport = new ClosingReport((text) => node.warn(text));

    const keyAlgorithm = (config.keyAlgorithm || 'rsa2048') as KeyAlgorithm;
    const keyPool = new NodeKeyPool(keyPoolSize(config.keyPool), config.credentialsType, keyAlgorithm, (fill) => status.poolChanged(fill));
    const queue = new JobQueue<Job>(parallelLimit(config.maxParallel), provision, (counts) => status.update(counts));

    if (!server) {
      status.broken('no server');
    } else {
      const resolved = server.serverOptions();
      if (!resolved.ok) status.broken(statusCode(resolved.error));
    }
    const { storeDir, error: storeFolderError } = deployedStoreFolder(config.storeDir);
    if (storeFolderError) {
      node.error(storeFolderError.message);
      status.broken('storeDir');
    }
    const expiryDays = expiryWindowDays(config.expiryWarningDays);
    if (storeDir) {
      void reportStoreAtDeploy(
        storeDir,
        {
          warn: (text) => node.warn(text),
          pending: (count, dir) => {
            if (queue.isClosed) return;
            node.warn(pendingWarning(count, dir));
            status.pending(RED._('gridlinks-provision.status.pending', { count }));
          },
          refused: (message) => {
            if (queue.isClosed) return;
            node.warn(message);
            status.broken('STORE');
          },
          expiring: (devices) => {
            if (queue.isClosed) return;
            for (const device of devices) node.warn(expiryWarning(summaryName(device), device.notAfter!));
            status.pending(RED._('gridlinks-provision.status.expiring', { count: devices.length, days: expiryDays }));
          },
        },
        expiryDays * DAY_MS,
      );
    }

    const autoRenewal =
      storeDir && (config.autoRenew === true || config.autoRenew === 'true') && server?.serverOptions().ok
        ? startAutoRenewal(
            { ...renewSettings({} as NodeMessageInFlow), storeDir, windowMs: expiryDays * DAY_MS },
            {
              renewed: (result) => {
                status.resumed(RED._('gridlinks-provision.status.renewed'), false);
                node.send({ payload: result, deviceName: result.deviceName, renewed: true });
              },
              failed: (deviceName, error) => {
                status.failed(statusCode(error));
                node.error(error, { payload: { deviceName }, deviceName, gridlinksError: error.toJSON() });
              },
            },
          )
        : undefined;

    node.on('input', (msg, send, done) => {
      queue.push({ msg, send, done });
    });

    // Close drains: queued messages that have not started are dropped; exchanges under way may finish
    // (bounded well inside Node-RED's 15 s close timeout), then the rest are cut. See docs/recovery.md.
    node.on('close', (_removed: boolean, done: () => void) => {
      status.cancel();
      const renewalStopped = autoRenewal?.stop();
      closingReport.startClosing();
      const resolved = server?.serverOptions();
      const answerTimeoutMs = resolved?.ok ? resolved.options.answerTimeoutMs : undefined;
      const finish = (): void => {
        closingReport.gone = true;
        done();
      };
      // The key pool is released at once: a pool key generation still running overlaps the drain.
      Promise.all([
        queue.drain(drainLimitMs(answerTimeoutMs), SETTLE_LIMIT_MS).then(({ dropped }) => closingReport.dropped(dropped.length)),
        keyPool.release(),
        renewalStopped,
      ]).then(finish, finish);
    });
  }

  RED.nodes.registerType<Node<ProvisionNodeCredentials>, ProvisionNodeDef, object, ProvisionNodeCredentials>('gridlinks-provision', GridlinksProvision, {
    credentials: {
      provisionDeviceKey: { type: 'password' },
      provisionDeviceSecret: { type: 'password' },
      signerCertificate: { type: 'text' },
      signerPrivateKey: { type: 'password' },
    },
  });
};
