/** The operator's --hsm-config file (QPKI's hsm.yaml); the reader is shared with CA directories' own hsm.yaml. */
export { loadHsmConfig, type HsmConfig } from '../core/ca/hsmYaml';
