"""Reconcile stage: make ids of any release answer in the target release."""
