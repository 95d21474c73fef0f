/**
 * The door of the provisioning room: the MQTT provisioning session, the HTTP endpoint, the service that
 * decides both (JSON or protobuf requests), and X.509 chain provisioning (at the TLS handshake or the CONNECT).
 */
export { ProvisionService, NOT_FOUND_MESSAGE, FAILURE_MESSAGE } from './provision-service';
export { ProvisionSession, MAX_PAYLOAD_BYTES, type ProvisionSessionContext } from './provision-session';
export { createProvisioningHttpServer, type HttpProvisioningContext } from './http-provisioning';
export { authenticateByChain, provisionDuringHandshake } from './chain-provisioning';
