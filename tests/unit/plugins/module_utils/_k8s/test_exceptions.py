# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Cluster errors name the API server's message, and for an RBAC refusal the permission to grant."""

from __future__ import annotations

import json

from kubernetes.client.exceptions import ApiException

from ansible_collections.kiln.kaniko.plugins.module_utils._k8s.errors import cluster_error, forbidden_fix

# As the API server words it (kube-apiserver v1.36, a service account without the verb).
FORBIDDEN = ('pods "kiln-build-x" is forbidden: User "system:serviceaccount:awx:kiln-job" cannot create resource '
             '"pods/exec" in API group "" in the namespace "builds"')


def api_error(status, message):
    exc = ApiException(status=status, reason='Forbidden')
    exc.body = json.dumps({'kind': 'Status', 'message': message})
    return exc


def test_a_refusal_by_rbac_names_the_verb_the_resource_and_the_fix():
    error = cluster_error(api_error(403, FORBIDDEN), 'exec into the pod')
    assert error.message.startswith('Could not exec into the pod: ' + FORBIDDEN + ' (403); ')
    assert "grant the verb 'create' on 'pods/exec' in namespace 'builds'" in error.message
    assert 'docs/awx.md' in error.message


def test_a_cluster_scoped_refusal_and_an_api_group():
    message = ('namespaces "x" is forbidden: User "u" cannot get resource "namespaces" in API group "" at the cluster '
               'scope')
    assert forbidden_fix(message).startswith("; grant the verb 'get' on 'namespaces' to")
    message = 'User "u" cannot list resource "cronjobs" in API group "batch" in the namespace "n"'
    assert "on 'cronjobs' of API group 'batch' in namespace 'n'" in forbidden_fix(message)


def test_other_errors_get_no_fix():
    assert cluster_error(api_error(422, 'Pod "x" is invalid'), 'create the build pod').message == (
        'Could not create the build pod: Pod "x" is invalid (422)')
    assert cluster_error(api_error(403, 'admission webhook denied the request'), 'create the build pod').message == (
        'Could not create the build pod: admission webhook denied the request (403)')
