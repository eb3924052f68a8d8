%{
/* placeholder, replaced by the frontend */
%}
%define api.pure full
%%
top: %empty ;
%%
