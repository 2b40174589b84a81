"""The role defaults, vars and tasks call the collection's filters by name (aiplatform.aks.*). Templar finds them
through Ansible's collection loader, which ansible-playbook sets up at start; here it is set up the same way, with the
collection path of ansible.cfg (.collections, where the clone is linked as aiplatform.aks)."""

from pathlib import Path

from ansible.plugins.loader import init_plugin_loader

init_plugin_loader([str(Path(__file__).resolve().parents[2] / '.collections')])
