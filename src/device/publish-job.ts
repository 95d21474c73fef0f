import type { MqttClient } from 'mqtt';
import type { ProvisionError } from '../provisioning/errors';
import type { ResolvedServer } from '../provisioning/types';
import { DISCONNECT_REASON, attributesTimeout, closedWhileQueued, publishUnacknowledged } from './device-errors';
import type { InFlight, Job } from './in-flight';
import { ATTRIBUTES_REQUEST_PREFIX } from './topics';

/** Shared by every publish; mqtt.js only reads it. */
const PUBLISH_OPTIONS = { qos: 1 } as const;

/**
 * Publishes a job (QoS 1) and tracks it in flight until its PUBACK (an attribute request: its answer, or
 * the expiry). `failed` gives the error of a publish mqtt.js fails: `overLimit` for MQTT 5 PUBACK 0x97
 * (quota exceeded: a gateway publish over a rate limit, the close follows).
 */
export function publishJob(client: MqttClient, inFlight: InFlight, job: Job, now: number, failed: (overLimit: boolean) => ProvisionError): void {
  inFlight.add(job, now);
  const { action } = job;
  if (action.kind === 'attributes/request') {
    // Settled by its answer (or the expiry), not by the PUBACK. The id is in the topic, or (a gateway's request) in the body.
    const requestId = job.requestId as number;
    const topic = action.topic ?? `${ATTRIBUTES_REQUEST_PREFIX}${requestId}`;
    client.publish(topic, action.bodyFor ? action.bodyFor(requestId) : action.body, PUBLISH_OPTIONS, (error) => {
      if (error) inFlight.settle(job, failed(false));
    });
  } else {
    client.publish(action.topic, action.body, PUBLISH_OPTIONS, (error) => {
      inFlight.settle(job, error ? failed((error as { code?: number }).code === DISCONNECT_REASON.quotaExceeded) : undefined);
    });
  }
}

/** A job sent and neither acknowledged nor answered within the answer timeout. */
export function expiredError(server: ResolvedServer, deviceName: string, job: Job): ProvisionError {
  return job.action.kind === 'attributes/request'
    ? attributesTimeout(server, deviceName)
    : publishUnacknowledged(server, deviceName, `no acknowledgement came within ${server.answerTimeoutMs} ms`, 'NO_ACK');
}

/** A job still in flight when the node closed the connection (after the grace). */
export function closedError(server: ResolvedServer, deviceName: string, job: Job): ProvisionError {
  return job.action.kind === 'attributes/request'
    ? closedWhileQueued(deviceName)
    : publishUnacknowledged(server, deviceName, 'the node closed the connection before the acknowledgement came', 'CLOSED');
}
