export { KubeClusterSource, type KubeClusterSourceOptions } from './source.js';
export { translatePod, translateNode, translatePodKey, resolvePort, resolveEndpointPort, PORT_ANNOTATION, REGION_LABEL, ZONE_LABEL, type PodTranslateOptions } from './translate.js';
export { describeKubeError, httpStatusOf, kubeErrorReason } from './errors.js';
export { APP_PROTOCOL_ANNOTATION, APP_PROTOCOL_VALUES, isHttp2PortName, podProtocol, protocolOfAppProtocol } from './protocol.js';
export { ACCEPTED_CONDITION, acceptedOf, KubePolicySource, POLICY_GROUP, POLICY_PLURAL, POLICY_VERSION, toPolicyObject, type KubePolicySourceOptions } from './policy-source.js';
export { acceptedStatusPatch, kubePolicyStatusWriter, type PolicyStatusTarget } from './policy-status.js';
