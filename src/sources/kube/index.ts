export { KubeClusterSource, type KubeClusterSourceOptions } from './source.js';
export { translatePod, translateNode, translatePodKey, resolvePort, PORT_ANNOTATION, REGION_LABEL, ZONE_LABEL, type PodTranslateOptions } from './translate.js';
export { describeKubeError, httpStatusOf, kubeErrorReason } from './errors.js';
