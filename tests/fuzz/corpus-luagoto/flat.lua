goto a
::a:: goto b ::b::
