# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):

    # Client-side validation; the spec is VALIDATE_ARG_SPEC in module_utils/k8s/validate.py.
    DOCUMENTATION = r'''
options:
  validate:
    description:
      - Validate every object on the controller before anything is sent that could write, in check mode too.
        Without this option nothing is validated here and the API server alone judges the objects.
      - Built-in kinds are checked against the OpenAPI schemas of Kubernetes O(validate.version) shipped by the
        C(kubernetes-validate) package. An apiVersion that version does not serve (for example C(policy/v1beta1)
        PodDisruptionBudget at 1.25 or later) is a problem.
      - Custom resources are checked against the C(openAPIV3Schema) of their CustomResourceDefinition for the object's
        version, the way the API server does it. Schema defaults are applied and nulls of non-nullable fields dropped
        first, then C(type), C(enum), C(pattern), C(format) (date-time, date, byte, ipv4, ipv6, cidr, uuid, int32 and
        int64 ranges), C(minimum)/C(maximum), C(multipleOf), C(minLength)/C(maxLength), C(minItems)/C(maxItems),
        C(uniqueItems), C(minProperties)/C(maxProperties), C(required), C(additionalProperties), C(nullable),
        C(allOf)/C(anyOf)/C(oneOf)/C(not), C(x-kubernetes-int-or-string), C(x-kubernetes-preserve-unknown-fields),
        C(x-kubernetes-embedded-resource) and the uniqueness of C(x-kubernetes-list-type) C(set) and C(map) lists
        (by C(x-kubernetes-list-map-keys)) are checked. Root C(metadata) is checked against the built-in ObjectMeta
        schema and the name must be a DNS subdomain.
      - The C(x-kubernetes-validations) CEL rules of the schema are then evaluated, with C(message),
        C(messageExpression) and C(fieldPath). Like the API server, they are skipped when the object has type errors.
        Transition rules (using C(oldSelf)) are evaluated against the object on the server when it exists, and skipped
        when it does not; rules with C(optionalOldSelf) see an empty C(oldSelf) then.
      - "CEL support: the CEL core (macros C(has), C(all), C(exists), C(exists_one), C(map), C(filter); C(size),
        C(contains), C(startsWith), C(endsWith), C(matches), conversions C(int), C(uint), C(double), C(string),
        C(bytes), C(timestamp), C(duration), C(dyn), C(type) and the timestamp/duration accessors, optionals) and these
        Kubernetes library functions: strings C(charAt), C(indexOf), C(lastIndexOf), C(lowerAscii), C(upperAscii),
        C(replace), C(split), C(substring), C(trim), C(join), C(reverse), C(strings.quote); lists C(isSorted), C(sum),
        C(min), C(max), C(indexOf), C(lastIndexOf); sets C(sets.contains), C(sets.equivalent), C(sets.intersects);
        regex C(find), C(findAll); URLs C(url), C(isURL), C(getScheme), C(getHost), C(getHostname), C(getPort),
        C(getEscapedPath), C(getQuery); C(bool). A rule that uses anything else (for example C(quantity), C(ip),
        C(cidr), C(format.*), C(semver)) is reported as a problem naming the rule, never passed silently. C(size) of a
        string counts UTF-8 bytes, not characters (a limitation of the CEL library). Cost limits are not enforced."
      - "The CRD of a custom resource is taken from, in this order: a CustomResourceDefinition in the same call, the
        files in O(validate.crds), the server. A server older than the CRD may have dropped its CEL rules (Kubernetes
        before 1.25 does), so give the upstream CRD files in O(validate.crds) to check those rules against such a
        server. A custom resource whose CRD is found nowhere is a problem with O(validate.strict), else a warning."
      - Requires the Python packages C(kubernetes-validate) and C(common-expression-language).
    type: dict
    suboptions:
      fail_on_error:
        description:
          - Fail on any problem, before anything is written; the failure lists every problem with its object, field
            path and message, and returns them in RV(validation).
          - With V(false), problems are reported as warnings and in RV(validation), and the objects are applied.
        type: bool
        default: true
      strict:
        description:
          - Fields that the schema does not declare are problems, as the API server with strict field validation
            refuses them (otherwise the server drops them silently). A custom resource whose CRD is not found is a problem.
          - With V(false), unknown fields are allowed and a custom resource without a CRD is skipped with a warning.
        type: bool
        default: true
      version:
        description:
          - Kubernetes minor version whose schemas built-in kinds are checked against, for example C("1.34"). Quote it,
            since unquoted C(1.30) is the number 1.3. It must be a version the installed C(kubernetes-validate) ships.
          - Default is the server's version; a server older or newer than the schemas shipped is checked against the
            nearest version shipped, with a warning.
        type: str
      crds:
        description:
          - YAML files (several documents allowed, C(.gz) compressed allowed) with CustomResourceDefinitions to check
            custom resources against; objects of other kinds in them are ignored.
          - The module reads the files where it runs, which is the controller with C(connection=local). Modules
            with an action plugin resolve relative paths on the controller first (see the module's notes).
        type: list
        elements: path
'''
