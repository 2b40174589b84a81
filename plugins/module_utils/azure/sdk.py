# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.aks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure SDK packages a module needs but the controller may lack."""

from __future__ import annotations

import importlib
import traceback


class OptionalSdk:
    """An SDK package, imported if installed: its names are read as attributes (`MSI_SDK.Identity`).

    When the package is missing every name is None, so class bodies can still mention SDK types;
    AzureModule(required_libs=[sdk.requirement]) fails with the package's name before any is used.
    """

    def __init__(self, package, *module_names):
        self.package = package
        self.import_error = None
        self._modules = []
        try:
            self._modules = [importlib.import_module(name) for name in module_names]
        except ImportError:
            self.import_error = traceback.format_exc()

    @property
    def requirement(self):
        """(pip package, installed, import traceback), as AzureModule's required_libs takes it."""
        return (self.package, self.import_error is None, self.import_error)

    def __getattr__(self, name):
        for module in self.__dict__.get('_modules', ()):
            if hasattr(module, name):
                return getattr(module, name)
        if self.__dict__.get('import_error'):
            return None
        raise AttributeError('%s has no %s' % (self.__dict__.get('package'), name))
