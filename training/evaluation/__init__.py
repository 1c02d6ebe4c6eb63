"""Evaluation of churn and uplift models: metrics (``metrics``) and report plots (``plots``).

Conventions used throughout: the outcome is churn (1 = the customer left, the bad
outcome); a churn score ranks the most likely churners first; an uplift score is the
predicted *reduction* in churn probability caused by an action (p_control − p_treated),
so a good uplift ranking puts the customers whose churn drops most first.
"""
